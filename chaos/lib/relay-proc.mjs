// The relay as the chaos suite runs it: one process group (this launcher, `wrangler dev` with
// its workerd, and the SMTP bridge), so one SIGKILL of the group takes all of it down at once,
// as a crash of the machine would. It does what scripts/dev.mjs does (migrations, wrangler dev,
// the sweeper armed, the bridge), but from a source snapshot (CHAOS_SRC) so edits in the shared
// checkout neither hot-reload the Worker mid-run nor change what is measured, with its own
// secrets file and state directory, the global limits lifted (the suite sends more recipients
// than the default 5,000 an hour) and every log line to a file instead of the console.
//
// Env: CHAOS_SRC (source root), CHAOS_STATE (state dir, holds chaos.env and relay.log),
// RELAY_PORT, SMTP_PORT, CHAOS_WRANGLER_VARS (JSON {NAME: value}). Prints "chaos-relay: ready".
import { spawn, spawnSync } from "node:child_process";
import { openSync, writeSync } from "node:fs";
import net from "node:net";
import path from "node:path";

const src = process.env.CHAOS_SRC;
const state = process.env.CHAOS_STATE;
const PORT = process.env.RELAY_PORT;
const SMTP_PORT = process.env.SMTP_PORT;
const BASE = `http://127.0.0.1:${PORT}`;
const extraVars = JSON.parse(process.env.CHAOS_WRANGLER_VARS ?? "{}");
const wrangler = path.join(src, "node_modules", ".bin", "wrangler");
const log = openSync(path.join(state, "relay.log"), "a");
const stamp = (what) => writeSync(log, `--- chaos: ${what} ${new Date().toISOString()}\n`);

function fail(msg) {
  console.error(`chaos-relay: ${msg} (see ${path.join(state, "relay.log")})`);
  process.exit(1);
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${what} not ready within ${timeoutMs / 1000} s`);
}

const listening = (port) =>
  new Promise((resolve) => {
    const s = net.connect(Number(port), "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

stamp("start");
const persist = ["--persist-to", state];
const mig = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...persist], { cwd: src, stdio: ["ignore", log, log], env: { ...process.env, CI: "1" } });
if (mig.status !== 0) fail(`migrations exited with ${mig.status}`);

const vars = { OUTBOX_GRACE_SECONDS: "15", SWEEP_INTERVAL_SECONDS: "10", ...extraVars };
const dev = spawn(
  wrangler,
  [
    "dev",
    "--port", PORT,
    "--ip", "127.0.0.1",
    "--env-file", path.join(state, "chaos.env"),
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    "--show-interactive-dev-session=false",
    ...persist,
  ],
  { cwd: src, stdio: ["ignore", log, log] },
);
dev.on("exit", (code) => fail(`wrangler dev exited with ${code}`));

await waitFor(async () => (await fetch(`${BASE}/health`)).ok, 120_000, "wrangler dev");
// Arms the Sweeper's alarm and sweeps once (cron triggers do not fire under wrangler dev).
await fetch(`${BASE}/cdn-cgi/local/scheduled`).catch(() => {});

const bridgeDir = path.join(src, "containers", "smtp-bridge");
const bridge = spawn(process.execPath, ["--experimental-strip-types", "--no-warnings", path.join(bridgeDir, "src", "main.ts")], {
  cwd: bridgeDir,
  stdio: ["ignore", log, log],
  env: {
    ...process.env,
    RELAY_URL: BASE,
    BRIDGE_SMTP_PORT: SMTP_PORT,
    BRIDGE_SMTP_HOST: "127.0.0.1",
    BRIDGE_DEV_INSECURE_AUTH: "true",
    BRIDGE_HEALTH_PORT: "",
    BRIDGE_LOG_LEVEL: "warn",
  },
});
bridge.on("exit", (code) => fail(`SMTP bridge exited with ${code}`));
await waitFor(() => listening(SMTP_PORT), 30_000, "SMTP bridge");
stamp("ready");
console.log(`chaos-relay: ready ${BASE} smtp ${SMTP_PORT}`);
