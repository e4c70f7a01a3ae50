// The foundation's durability check: accept 100 messages, kill the local relay (SIGKILL, no
// chance to drain) right after, start it again, and wait until all 100 are `sent`.
// Uses its own port and a throwaway state directory. `npm run check:restart`.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const PORT = process.env.RELAY_PORT ?? "8797";
const BASE = `http://127.0.0.1:${PORT}`;
const N = Number(process.env.COUNT ?? 100);
const state = mkdtempSync(path.join(tmpdir(), "relay-restart-"));
const env = { ...process.env, RELAY_PORT: PORT, RELAY_PERSIST_DIR: state, RELAY_NO_BRIDGE: "1" };

function start() {
  const child = spawn(process.execPath, [path.join(root, "scripts", "dev.mjs")], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const ready = new Promise((resolve, reject) => {
    const t = setInterval(() => out.includes("relay: ready") && (clearInterval(t), resolve()), 100);
    child.on("exit", (code) => (clearInterval(t), reject(new Error(`dev server exited (${code}):\n${out.slice(-2000)}`))));
  });
  return { child, ready };
}

const kill = (child) => {
  try {
    process.kill(-child.pid, "SIGKILL"); // the whole group: wrangler and both workerd processes
  } catch {}
};

let run = start();
try {
  await run.ready;
  const key = JSON.parse(readFileSync(path.join(state, "dev-credentials.json"), "utf8")).api_key;
  const send = (i) =>
    fetch(`${BASE}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ from: "noreply@clinic.example", to: [`p${i}@example.net`], subject: `restart ${i}`, text: "hi" }),
    }).then(async (r) => {
      if (r.status !== 202) throw new Error(`send ${i}: ${r.status} ${await r.text()}`);
      return (await r.json()).id;
    });
  const ids = await Promise.all(Array.from({ length: N }, (_, i) => send(i)));
  kill(run.child);
  const killedAt = Date.now();
  console.log(`accepted ${ids.length}; killed the relay`);
  await new Promise((r) => setTimeout(r, 1000));

  run = start();
  await run.ready;
  console.log(`restarted after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
  const deadline = Date.now() + 5 * 60_000;
  let sent = 0;
  while (Date.now() < deadline) {
    const statuses = await Promise.all(
      ids.map((id) => fetch(`${BASE}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.json()).then((m) => m.status)),
    );
    sent = statuses.filter((s) => s === "sent").length;
    if (sent === N) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.log(`${sent}/${N} sent ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  kill(run.child);
  rmSync(state, { recursive: true, force: true });
  process.exit(sent === N ? 0 : 1);
} catch (e) {
  kill(run.child);
  console.error(e);
  process.exit(1);
}
