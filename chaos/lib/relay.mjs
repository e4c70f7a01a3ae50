// The relay under chaos: a source snapshot, its secrets, and the process group started by
// relay-proc.mjs, which `kill()` SIGKILLs as a whole.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";

/**
 * The relay's source as of `ref` (git archive: committed code only, so other engineers'
 * half-made edits in the shared checkout are not measured), or "worktree" (a copy of the working
 * tree's relay directories). node_modules are linked, the generated workers/vendor copied.
 */
export function snapshot(root, dir, ref = "HEAD") {
  mkdirSync(dir, { recursive: true });
  let commit = null;
  if (ref === "worktree") {
    for (const d of ["workers", "core", "db", "durable-objects", "migrations", "containers/smtp-bridge/src"]) {
      cpSync(path.join(root, d), path.join(dir, d), { recursive: true, filter: (s) => !s.includes(`${path.sep}node_modules`) });
    }
    for (const f of ["wrangler.toml", "package.json", "tsconfig.json", "worker-configuration.d.ts", "containers/smtp-bridge/package.json"]) {
      if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(dir, f));
    }
  } else {
    commit = execFileSync("git", ["rev-parse", ref], { cwd: root, encoding: "utf8" }).trim();
    execFileSync("sh", ["-c", `git archive ${commit} | tar -x -C "${dir}"`], { cwd: root });
    cpSync(path.join(root, "workers", "vendor"), path.join(dir, "workers", "vendor"), { recursive: true });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  const bridgeModules = path.join(root, "containers", "smtp-bridge", "node_modules");
  if (existsSync(bridgeModules)) symlinkSync(bridgeModules, path.join(dir, "containers", "smtp-bridge", "node_modules"));
  return commit;
}

/** Throwaway secrets in the state directory (never the checkout's .dev.vars). */
export function writeSecrets(stateDir) {
  const adminToken = `chaos-admin-${randomBytes(16).toString("hex")}`;
  const dataKeys = JSON.stringify({ k1: randomBytes(32).toString("base64") });
  writeFileSync(path.join(stateDir, "chaos.env"), `ADMIN_TOKEN=${adminToken}\nDATA_KEYS='${dataKeys}'\n`, { mode: 0o600 });
  return adminToken;
}

const listening = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

export class RelayProcess {
  constructor({ src, stateDir, port, smtpPort, vars }) {
    Object.assign(this, { src, stateDir, port, smtpPort, vars, child: null, starts: 0 });
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Starts the group and resolves when the API and the bridge answer. */
  async start(timeoutMs = 180_000) {
    // A killed group's sockets are gone at once, but make sure nothing else took the ports.
    for (const p of [this.port, this.smtpPort]) {
      const deadline = Date.now() + 10_000;
      while ((await listening(p)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    }
    this.starts++;
    const child = spawn(process.execPath, [path.join(import.meta.dirname, "relay-proc.mjs")], {
      cwd: this.src,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CHAOS_SRC: this.src,
        CHAOS_STATE: this.stateDir,
        RELAY_PORT: String(this.port),
        SMTP_PORT: String(this.smtpPort),
        CHAOS_WRANGLER_VARS: JSON.stringify(this.vars),
      },
    });
    this.child = child;
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay not ready within ${timeoutMs / 1000} s:\n${out.slice(-2000)}`)), timeoutMs);
      const t = setInterval(() => out.includes("chaos-relay: ready") && (clearInterval(t), clearTimeout(timer), resolve()), 100);
      child.on("exit", (code, sig) => {
        clearInterval(t);
        clearTimeout(timer);
        if (this.child !== child || this.killing) return;
        this.crashed = `exited on its own (${code ?? sig}): ${out.slice(-500)}`;
        reject(new Error(`relay exited (${code ?? sig}):\n${out.slice(-2000)}`));
      });
    });
  }

  /** SIGKILL to the whole process group: launcher, wrangler, workerd, bridge. Returns the time. */
  kill() {
    const at = Date.now();
    if (this.child?.pid) {
      this.killing = true;
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    return at;
  }

  async restart() {
    await new Promise((r) => setTimeout(r, 500));
    this.killing = false;
    this.crashed = null;
    await this.start();
  }
}
