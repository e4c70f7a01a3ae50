// `npm run mysql:local`: a local MariaDB for the MySQL store, its tests and `wrangler dev`.
// Installs nothing. If a server already answers on the port, it is used; otherwise an installed
// MariaDB (Debian `mariadb-server`) is started on a data directory of its own, which never
// touches the system's /var/lib/mysql or /run/mysqld. Then the databases `relay` and
// `relay_test` (utf8mb4, binary collation) and the user relay/relay exist, and the connection
// string is printed on stdout, alone, so `$(npm run -s mysql:local)` is the URL. Idempotent.
//
//   node scripts/mysql-local.mjs [start|stop|status]
//   RELAY_MYSQL_PORT  port on 127.0.0.1 (3306; wrangler.toml's localConnectionString uses 3306)
//   RELAY_MYSQL_DIR   data directory, socket, pid file and log (.wrangler/mysql)
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";

const root = path.resolve(import.meta.dirname, "..");
const PORT = Number(process.env.RELAY_MYSQL_PORT ?? 3306);
const DIR = path.resolve(process.env.RELAY_MYSQL_DIR ?? path.join(root, ".wrangler", "mysql"));
const DATA = path.join(DIR, "data");
// A Unix socket path is at most 107 bytes; a deep checkout falls back to the temp directory.
const SOCKET = path.join(DIR, "mysqld.sock").length < 100 ? path.join(DIR, "mysqld.sock") : path.join(os.tmpdir(), `relay-mysqld-${PORT}.sock`);
const PID_FILE = path.join(DIR, "mysqld.pid");
const LOG = path.join(DIR, "error.log");
const USER = "relay";
const PASSWORD = "relay";
// relay_bench: the store phase of `npm run bench` (bench/lib/store-phase.mjs), emptied at each run.
const DATABASES = ["relay", "relay_test", "relay_bench"];
const URL = `mysql://${USER}:${PASSWORD}@127.0.0.1:${PORT}/relay`;
// The OS user the server runs as; MariaDB refuses root unless told (a container's CI runs as root).
const osUser = os.userInfo().username;
const isRoot = process.getuid?.() === 0;

const say = (line) => console.error(`mysql-local: ${line}`);

function which(...names) {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];
  for (const name of names) for (const dir of dirs) if (dir && existsSync(path.join(dir, name))) return path.join(dir, name);
  return null;
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.setTimeout(1000);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("timeout", () => (s.destroy(), resolve(false)));
    s.once("error", () => resolve(false));
  });
}

/** Logs in as the relay user; true when both databases are there. */
async function relayUserReady() {
  let conn;
  try {
    conn = await mysql.createConnection({ host: "127.0.0.1", port: PORT, user: USER, password: PASSWORD, connectTimeout: 3000 });
    const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name IN (?)`, [DATABASES]);
    return Number(rows[0].n) === DATABASES.length;
  } catch {
    return false;
  } finally {
    await conn?.end().catch(() => {});
  }
}

const SETUP_SQL = [
  ...DATABASES.map((db) => `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`),
  // Socket (localhost) and TCP (127.0.0.1; the server skips name resolution) logins.
  ...["localhost", "127.0.0.1"].flatMap((host) => [
    `CREATE USER IF NOT EXISTS '${USER}'@'${host}' IDENTIFIED BY '${PASSWORD}';`,
    // Locally the relay user also runs migrations; docs/storage.md says what production grants.
    ...DATABASES.map((db) => `GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${USER}'@'${host}';`),
  ]),
].join(" ");

/** Runs the setup as an administrator: over our own socket, or the system server's default one. */
function setupAsAdmin(socket) {
  const client = which("mariadb", "mysql");
  if (!client) return { ok: false, why: "no mariadb/mysql client installed" };
  const args = socket ? ["--no-defaults", `--socket=${socket}`, "-u", osUser] : ["-u", "root"];
  const r = spawnSync(client, [...args, "-e", SETUP_SQL], { encoding: "utf8" });
  return r.status === 0 ? { ok: true } : { ok: false, why: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
}

function serverArgs() {
  return [
    `--datadir=${DATA}`,
    `--socket=${SOCKET}`,
    `--port=${PORT}`,
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_bin",
    // A small redo log: 16 MB instead of 96 MB on disk, ample for development and tests.
    "--innodb-log-file-size=16M",
    ...(isRoot ? ["--user=root"] : []),
  ];
}

async function startServer() {
  const safe = which("mariadbd-safe", "mysqld_safe");
  const installDb = which("mariadb-install-db", "mysql_install_db");
  if (!safe || !installDb) {
    say(`nothing answers on 127.0.0.1:${PORT} and no MariaDB server is installed`);
    say("install one (Debian: apt-get install mariadb-server; it need not be started) or start MySQL 8 / MariaDB yourself");
    process.exit(2);
  }
  mkdirSync(DIR, { recursive: true });
  if (!existsSync(path.join(DATA, "mysql"))) {
    say(`initializing ${DATA}`);
    const r = spawnSync(
      installDb,
      // --no-defaults first: nothing from /etc/mysql (its datadir and socket are the system's).
      ["--no-defaults", ...serverArgs(), "--auth-root-authentication-method=socket", `--auth-root-socket-user=${osUser}`, "--skip-test-db"],
      { encoding: "utf8" },
    );
    if (r.status !== 0) {
      say(`${path.basename(installDb)} failed:\n${r.stdout}\n${r.stderr}`);
      process.exit(1);
    }
  }
  say(`starting MariaDB on 127.0.0.1:${PORT} (data ${DATA}, log ${LOG})`);
  const child = spawn(safe, ["--no-defaults", ...serverArgs(), `--pid-file=${PID_FILE}`, `--log-error=${LOG}`], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  const admin = which("mariadb-admin", "mysqladmin");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const ping = admin ? spawnSync(admin, ["--no-defaults", `--socket=${SOCKET}`, "-u", osUser, "ping"], { encoding: "utf8" }) : null;
    if ((ping ? ping.status === 0 : true) && (await portAnswers(PORT))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`the server did not come up within 30 s; its log (${LOG}) ends:`);
  if (existsSync(LOG)) console.error(readFileSync(LOG, "utf8").split("\n").slice(-20).join("\n"));
  process.exit(1);
}

function ownPid() {
  try {
    const pid = Number(readFileSync(PID_FILE, "utf8").trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

async function stop() {
  const pid = ownPid();
  if (!pid) {
    say(`no server of ours is running (${PID_FILE})`);
    return;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      say(`stopped (pid ${pid})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`pid ${pid} is still running after 30 s`);
  process.exit(1);
}

async function start() {
  const started = Date.now();
  if (await portAnswers(PORT)) {
    if (await relayUserReady()) {
      say(`using the server already on 127.0.0.1:${PORT}`);
      console.log(URL);
      return;
    }
  } else {
    await startServer();
  }
  if (!(await relayUserReady())) {
    // Ours (our socket exists), or someone else's: then try the system server's root login.
    const r = setupAsAdmin(existsSync(SOCKET) && ownPid() ? SOCKET : null);
    if (!r.ok || !(await relayUserReady())) {
      say(`a server answers on 127.0.0.1:${PORT}, but user ${USER} cannot reach ${DATABASES.join(", ")}, and setting them up failed: ${r.why ?? "unknown"}`);
      say(`as an administrator, run: ${SETUP_SQL}`);
      process.exit(1);
    }
    say(`created databases ${DATABASES.join(", ")} and user ${USER}`);
  }
  say(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(URL);
}

const command = process.argv[2] ?? "start";
if (command === "start") await start();
else if (command === "stop") await stop();
else if (command === "status") {
  const up = await portAnswers(PORT);
  const ready = up && (await relayUserReady());
  say(up ? (ready ? `ready at ${URL}` : `a server answers on 127.0.0.1:${PORT} but user ${USER} is not set up`) : `nothing answers on 127.0.0.1:${PORT}`);
  process.exitCode = ready ? 0 : 1;
} else {
  say(`unknown command ${command}: start, stop or status`);
  process.exitCode = 64;
}
