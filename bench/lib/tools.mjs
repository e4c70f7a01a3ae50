// Load generators from Debian, fetched on first use: wrk (apt-get install) and Postfix's
// smtp-source/smtp-sink (the .deb unpacked under bench/.tools, never installed: installing
// postfix would start a mail daemon).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

const which = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim() || null;
const sudo = () => (process.getuid?.() === 0 ? [] : ["sudo", "-n"]);

function apt(args) {
  const [cmd, ...rest] = [...sudo(), "apt-get", ...args];
  const r = spawnSync(cmd, rest, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return r.status === 0;
}

export function ensureWrk(log) {
  let wrk = which("wrk");
  if (wrk) return wrk;
  log("bench: installing wrk (apt-get)");
  if (!apt(["install", "-y", "-q", "wrk"])) {
    apt(["update", "-q"]);
    if (!apt(["install", "-y", "-q", "wrk"])) throw new Error("could not install wrk with apt-get; install it and run again");
  }
  wrk = which("wrk");
  if (!wrk) throw new Error("wrk is still not on PATH after apt-get install");
  return wrk;
}

/** { source, sink, env } or throws. */
export function ensurePostfixTools(toolsDir, log) {
  const dir = path.join(toolsDir, "postfix");
  const bin = (n) => path.join(dir, "usr", "sbin", n);
  if (!existsSync(bin("smtp-source"))) {
    log("bench: fetching postfix .deb for smtp-source/smtp-sink (apt-get download; not installed)");
    mkdirSync(toolsDir, { recursive: true });
    let ok = spawnSync("apt-get", ["download", "postfix"], { cwd: toolsDir, stdio: ["ignore", "ignore", "inherit"] }).status === 0;
    if (!ok) {
      apt(["update", "-q"]);
      ok = spawnSync("apt-get", ["download", "postfix"], { cwd: toolsDir, stdio: ["ignore", "ignore", "inherit"] }).status === 0;
    }
    const deb = readdirSync(toolsDir).find((f) => /^postfix_.*\.deb$/.test(f));
    if (!ok || !deb) throw new Error("apt-get download postfix failed");
    execFileSync("dpkg-deb", ["-x", path.join(toolsDir, deb), dir]);
  }
  return {
    source: bin("smtp-source"),
    sink: bin("smtp-sink"),
    env: { ...process.env, LD_LIBRARY_PATH: path.join(dir, "usr", "lib", "postfix") },
  };
}
