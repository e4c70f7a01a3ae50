// `npm start`: the whole relay on this machine with the embedded defaults.
//   1. local secrets (.dev.vars: admin token + data key), created once;
//   2. local D1 migrations;
//   3. `wrangler dev` (API, queue consumer, Durable Objects, R2, D1 — all local, persisted in .wrangler/);
//   4. a dev workspace with a verified domain, a sandbox provider and an API key (printed);
//   5. the outbox sweeper armed (cron triggers do not fire under wrangler dev; a DO alarm does);
//   6. the SMTP bridge on localhost:2525, forwarding to the local relay.
// `npm run start:mysql` (`--store=mysql`) does the same on the MySQL store: it starts (or uses) the
// local MariaDB of `npm run mysql:local` (wrangler.toml's localConnectionString points there),
// applies the MySQL migrations and runs the Worker with STORE = "mysql". Its credentials are kept
// apart from the D1 ones, since the two databases hold different workspaces.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const PORT = Number(process.env.RELAY_PORT ?? 8787);
const BASE = `http://127.0.0.1:${PORT}`;
const DEV_VARS = path.join(root, ".dev.vars");
// RELAY_PERSIST_DIR keeps local state somewhere else (the restart check uses a throwaway one).
const PERSIST = process.env.RELAY_PERSIST_DIR ? path.resolve(process.env.RELAY_PERSIST_DIR) : null;
const persistArgs = PERSIST ? ["--persist-to", PERSIST] : [];
const STORE = process.argv.includes("--store=mysql") ? "mysql" : "d1";
const CREDENTIALS = path.join(PERSIST ?? path.join(root, ".wrangler"), STORE === "mysql" ? "dev-credentials-mysql.json" : "dev-credentials.json");
const DEV_DOMAIN = "clinic.example";
const SMTP_PORT = process.env.SMTP_PORT ?? "2525";
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const children = [];

function readDevVars() {
  if (!existsSync(DEV_VARS)) return {};
  return Object.fromEntries(
    readFileSync(DEV_VARS, "utf8")
      .split("\n")
      .map((l) => l.match(/^([A-Z_]+)=(.*)$/))
      .filter(Boolean)
      .map((m) => [m[1], m[2].replace(/^'(.*)'$/, "$1")]),
  );
}

function ensureSecrets() {
  const vars = readDevVars();
  if (!vars.ADMIN_TOKEN || !vars.DATA_KEYS) {
    vars.ADMIN_TOKEN ??= `dev-admin-${randomBytes(16).toString("hex")}`;
    vars.DATA_KEYS ??= JSON.stringify({ k1: randomBytes(32).toString("base64") });
    writeFileSync(DEV_VARS, `ADMIN_TOKEN=${vars.ADMIN_TOKEN}\nDATA_KEYS='${vars.DATA_KEYS}'\n`, { mode: 0o600 });
    console.log("relay: wrote local secrets to .dev.vars");
  }
  return vars;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(" ")} exited with ${r.status}`);
}

async function waitFor(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

async function call(method, pathname, token, body) {
  const res = await fetch(BASE + pathname, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function seed(adminToken) {
  if (existsSync(CREDENTIALS)) {
    const saved = JSON.parse(readFileSync(CREDENTIALS, "utf8"));
    const me = await fetch(`${BASE}/v1/me`, { headers: { authorization: `Bearer ${saved.api_key}` } });
    if (me.ok) return saved;
    console.log("relay: saved dev credentials no longer match the local database; seeding again");
  }
  const workspaces = await call("GET", "/v1/workspaces", adminToken);
  let ws = workspaces.data.find((w) => w.slug === "dev");
  ws ??= await call("POST", "/v1/workspaces", adminToken, { slug: "dev", display_name: "Local development" });
  try {
    await call("POST", `/v1/workspaces/${ws.id}/domains`, adminToken, { domain: DEV_DOMAIN, verified: true });
  } catch (e) {
    if (!String(e).includes("409")) throw e;
  }
  const key = await call("POST", `/v1/workspaces/${ws.id}/api-keys`, adminToken, { name: "dev", scopes: ["admin"] });
  const providers = await call("GET", "/v1/providers", key.key);
  if (!providers.data.some((p) => p.type === "sandbox")) {
    await call("POST", "/v1/providers", key.key, { name: "sandbox", type: "sandbox" });
  }
  const saved = { workspace_id: ws.id, api_key: key.key, domain: DEV_DOMAIN };
  mkdirSync(path.dirname(CREDENTIALS), { recursive: true });
  writeFileSync(CREDENTIALS, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return saved;
}

function startBridge() {
  const entry = path.join(root, "containers", "smtp-bridge", "src", "main.ts");
  if (!existsSync(entry)) {
    console.log("relay: SMTP bridge not present in this checkout; skipping it");
    return;
  }
  const bridge = spawn(process.execPath, ["--experimental-strip-types", "--no-warnings", entry], {
    cwd: path.join(root, "containers", "smtp-bridge"),
    stdio: "inherit",
    env: {
      ...process.env,
      RELAY_URL: BASE,
      BRIDGE_SMTP_PORT: SMTP_PORT,
      BRIDGE_SMTP_HOST: "127.0.0.1",
      // Loopback-only conveniences for local development (see containers/smtp-bridge/README.md).
      BRIDGE_DEV_INSECURE_AUTH: "true",
    },
  });
  children.push(bridge);
  bridge.on("exit", (code) => code && console.error(`relay: SMTP bridge exited with ${code}`));
}

function shutdown() {
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => process.exit(0), 1500).unref();
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);

/** The local MariaDB (started if need be) with the MySQL migrations applied; its URL. */
function prepareMysql() {
  const started = spawnSync(process.execPath, [path.join(root, "scripts", "mysql-local.mjs")], { cwd: root, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (started.status !== 0) throw new Error("no local MySQL/MariaDB for the MySQL store (see the lines above)");
  const url = started.stdout.trim();
  run(process.execPath, [path.join(root, "scripts", "mysql-migrate.mjs"), url]);
  return url;
}

const secrets = ensureSecrets();
run(bin("wrangler"), ["d1", "migrations", "apply", "DB", "--local", ...persistArgs]);
const mysqlUrl = STORE === "mysql" ? prepareMysql() : null;
const storeArgs = STORE === "mysql" ? ["--var", "STORE:mysql"] : [];
const dev = spawn(
  bin("wrangler"),
  ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--var", "OUTBOX_GRACE_SECONDS:15", "--var", "SWEEP_INTERVAL_SECONDS:10", ...storeArgs, "--show-interactive-dev-session=false", ...persistArgs],
  { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
);
children.push(dev);
dev.on("exit", (code) => {
  console.error(`relay: wrangler dev exited with ${code}`);
  shutdown();
});

await waitFor(`${BASE}/health`, 90_000);
const creds = await seed(secrets.ADMIN_TOKEN);
// Arms the Sweeper's alarm (and sweeps once): recovers anything a previous run left queued.
await fetch(`${BASE}/cdn-cgi/local/scheduled`).catch(() => {});
if (process.env.RELAY_NO_BRIDGE !== "1") startBridge();

console.log(`
relay: ready on ${BASE}, store: ${STORE === "mysql" ? `MySQL (${mysqlUrl.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")}, through the HYPERDRIVE binding)` : "D1 (local, in .wrangler/)"}
  workspace   ${creds.workspace_id}   sender domain ${creds.domain} (verified), provider: sandbox
  API key     ${creds.api_key}
  admin token in .dev.vars
  API docs    ${BASE}/docs   (reference rendered from ${BASE}/openapi.json; typed client in clients/typescript)
  SMTP bridge smtp://127.0.0.1:${SMTP_PORT} (AUTH with any username and the API key as password)

  curl -s ${BASE}/v1/messages -H "Authorization: Bearer ${creds.api_key}" -H "Content-Type: application/json" \\
    -d '{"from":"noreply@${creds.domain}","to":["patient@example.net"],"subject":"Hello","text":"Hi"}'
`);
