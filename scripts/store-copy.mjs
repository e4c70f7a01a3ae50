// `npm run store:copy`: copies the relay's state (or one workspace's) from a D1 database to a
// MySQL 8 / MariaDB database whose migrations are applied (npm run db:mysql:migrate), then
// compares each table's row count on both sides. docs/storage.md, "Moving from D1 to MySQL".
//
//   node scripts/store-copy.mjs [--from local.sqlite | --from dump.sql] [--to mysql://…] [--workspace ws_…]
//                               [--chunk 500] [--max-chunks N]
//
// The source is read as SQLite (node:sqlite, no dependency): a local D1 file (.wrangler/state/v3/d1/
// …/*.sqlite, the default when there is exactly one), or the SQL text `wrangler d1 export --remote
// --output dump.sql` writes, loaded into a temporary SQLite file first.
//
// Tables go in foreign-key order (parents first), each in chunks ordered by its primary key
// (keyset: WHERE (pk) > (last) ORDER BY pk LIMIT n), so a chunk is read once whatever the
// table's size. Resumable: a chunk's rows already in the destination (by primary key) are left
// alone and only the missing ones are inserted, so running the command again after an
// interruption (or after --max-chunks stopped it) continues where it was. Plain INSERT rather than
// INSERT IGNORE: IGNORE also turns a value that does not fit its column (a truncated ciphertext)
// into a warning, and a conflicting unique key into a silently skipped row; here both stop the copy
// with the server's error. ON DUPLICATE KEY UPDATE is no better: it fires audit_logs' append-only
// triggers.
//
// Values are converted to the destination column's shape: JSON stays its text (MySQL 8 parses it
// into its JSON type, MariaDB checks it with json_valid), 0/1 go into TINYINT(1) as they are,
// a whole number stored as REAL (D1's unixepoch('subsec') * 1000 defaults) is rounded for an
// integer column. Generated columns (recipients.email_lower, sender_domains.verified_domain) are
// computed by the destination.
//
// Exit status: 0 copied and every count agrees; 1 an error (nothing half-written: each chunk is one
// statement); 2 copied, but a table's counts differ; 3 stopped by --max-chunks (run it again).
// Never prints row values or the connection string's password.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2/promise";

// node:sqlite is marked experimental in Node 22 and says so on every run: not this command's news.
process.removeAllListeners("warning");
process.on("warning", (w) => w.name !== "ExperimentalWarning" && console.warn(w));
const { DatabaseSync } = await import("node:sqlite");

const root = path.resolve(import.meta.dirname, "..");

/** Tables of SQLite, D1 and the migration tools that are not the relay's state. */
const INTERNAL = /^(sqlite_|_cf_|d1_migrations$|__drizzle)/;

/**
 * How a table without a workspace_id column is reached from its workspace (for --workspace).
 * A new table without the column must be added here: the command refuses to guess.
 */
const REACHED_THROUGH = {
  provider_webhook_tokens: "`provider_id` IN (SELECT `id` FROM `providers` WHERE `workspace_id` = ?)",
};

/** Most bytes of values in one INSERT (MariaDB's default max_allowed_packet is 16 MiB). */
const MAX_INSERT_BYTES = 4 * 1024 * 1024;

const EXIT = { ok: 0, error: 1, mismatch: 2, stopped: 3 };

const q = (name) => `\`${name.replaceAll("`", "``")}\``;
const redact = (url) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");

/**
 * An error's message without row values: the server quotes the offending value in some errors
 * ("Duplicate entry 'a@b.example' for key …", "Incorrect … value: '…'"), and rows hold addresses.
 */
const safe = (e) => String(e?.message ?? e).replace(/(entry|value:?) '(?:[^'\\]|\\.)*'/gi, "$1 '…'");

function usage(message) {
  console.error(`store-copy: ${message}`);
  console.error("usage: node scripts/store-copy.mjs [--from file.sqlite|dump.sql] [--to mysql://user:pass@host:3306/db] [--workspace ws_…] [--chunk 500] [--max-chunks N]");
  process.exit(EXIT.error);
}

/** The local D1 database of `wrangler dev` / `npm start`, when there is exactly one. */
function localD1() {
  const dir = path.join(root, ".wrangler", "state", "v3", "d1");
  const found = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".sqlite")) found.push(p);
    }
  };
  walk(dir);
  if (found.length === 1) return found[0];
  usage(found.length === 0 ? `no local D1 database under ${path.relative(root, dir)}; pass --from` : `several local D1 databases (${found.map((f) => path.relative(root, f)).join(", ")}); pass --from`);
}

/** The source as a SQLite database: the file itself, or a dump loaded into a temporary one. */
function openSource(from) {
  if (!existsSync(from)) usage(`${from} does not exist`);
  if (!from.endsWith(".sql")) return { db: new DatabaseSync(from, { readOnly: true }), done: () => {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), "store-copy-"));
  const db = new DatabaseSync(path.join(dir, "source.sqlite"));
  // The export creates every table and then fills it; its foreign keys hold once it is all loaded.
  db.exec("PRAGMA foreign_keys = OFF");
  db.exec(readFileSync(from, "utf8"));
  return { db, done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** The source's tables with their columns, primary key and parents, parents before children. */
function sourceTables(db) {
  const names = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name)
    .filter((n) => !INTERNAL.test(n));
  const tables = new Map();
  for (const name of names) {
    const cols = db.prepare(`PRAGMA table_info(${q(name)})`).all();
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    if (pk.length === 0) throw new Error(`${name} has no primary key: the copy cannot be resumed on it`);
    const parents = db.prepare(`PRAGMA foreign_key_list(${q(name)})`).all().map((f) => f.table).filter((t) => t !== name && names.includes(t));
    tables.set(name, { name, columns: cols.map((c) => c.name), pk, parents: [...new Set(parents)] });
  }
  const ordered = [];
  const state = new Map();
  const visit = (name) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`foreign keys form a cycle through ${name}`);
    state.set(name, "visiting");
    for (const p of tables.get(name).parents) visit(p);
    state.set(name, "done");
    ordered.push(tables.get(name));
  };
  for (const name of names) visit(name);
  return ordered;
}

/** `WHERE` text and values that keep a table's rows to one workspace (or all rows). */
function scope(table, workspace) {
  if (!workspace) return { sql: "1 = 1", values: [] };
  if (table.name === "workspaces") return { sql: "`id` = ?", values: [workspace] };
  if (table.columns.includes("workspace_id")) return { sql: "`workspace_id` = ?", values: [workspace] };
  const through = REACHED_THROUGH[table.name];
  if (!through) throw new Error(`${table.name} has no workspace_id and no known way to its workspace (scripts/store-copy.mjs REACHED_THROUGH)`);
  return { sql: through, values: [workspace] };
}

/** The destination's columns of a table: type, and whether the server computes it. */
async function destinationColumns(conn, table) {
  const [rows] = await conn.query(
    "SELECT column_name AS name, data_type AS type, column_type AS column_type, extra FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?",
    [table],
  );
  return new Map(rows.map((r) => [r.name, { type: String(r.type).toLowerCase(), generated: /GENERATED/i.test(String(r.extra)) }]));
}

const INTEGER_TYPES = new Set(["tinyint", "smallint", "mediumint", "int", "integer", "bigint"]);

/** A source value in the shape of its destination column. */
function convert(value, column) {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "number" && INTEGER_TYPES.has(column.type) && !Number.isInteger(value)) return Math.round(value);
  return value;
}

const sizeOf = (v) => (v === null ? 4 : typeof v === "string" ? v.length * 3 + 2 : Buffer.isBuffer(v) ? v.length * 2 : 16);
const keyOf = (values) => JSON.stringify(values.map((v) => (typeof v === "bigint" ? Number(v) : v)));

/** The primary keys among `keys` the destination already holds. */
async function present(conn, table, keys) {
  const cols = table.pk.map(q).join(", ");
  const tuple = `(${table.pk.map(() => "?").join(", ")})`;
  const [rows] = await conn.query(`SELECT ${cols} FROM ${q(table.name)} WHERE (${cols}) IN (${keys.map(() => tuple).join(", ")})`, keys.flat());
  return new Set(rows.map((r) => keyOf(table.pk.map((c) => r[c]))));
}

async function insert(conn, table, columns, rows) {
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  let batch = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await conn.query(`INSERT INTO ${q(table.name)} (${columns.map(q).join(", ")}) VALUES ${batch.map(() => tuple).join(", ")}`, batch.flat());
    batch = [];
    bytes = 0;
  };
  for (const row of rows) {
    const size = row.reduce((n, v) => n + sizeOf(v), 0);
    if (batch.length > 0 && bytes + size > MAX_INSERT_BYTES) await flush();
    batch.push(row);
    bytes += size;
  }
  await flush();
}

async function count(run, table, where) {
  const rows = await run(`SELECT COUNT(*) AS n FROM ${q(table.name)} WHERE ${where.sql}`, where.values);
  return Number(rows[0].n);
}

async function checkMigrations(conn) {
  const journal = JSON.parse(readFileSync(path.join(root, "migrations-mysql", "meta", "_journal.json"), "utf8"));
  let applied = 0;
  try {
    const [rows] = await conn.query("SELECT COUNT(*) AS n FROM `__drizzle_migrations`");
    applied = Number(rows[0].n);
  } catch {
    applied = 0;
  }
  if (applied < journal.entries.length) throw new Error(`the destination has ${applied} of ${journal.entries.length} MySQL migrations applied; run \`npm run db:mysql:migrate -- <url>\` first`);
}

async function main() {
  let args;
  try {
    ({ values: args } = parseArgs({
      options: { from: { type: "string" }, to: { type: "string" }, workspace: { type: "string" }, chunk: { type: "string" }, "max-chunks": { type: "string" } },
      strict: true,
    }));
  } catch (e) {
    usage(e.message);
  }
  const from = args.from ?? localD1();
  const to = args.to ?? process.env.RELAY_MYSQL_URL ?? "mysql://relay:relay@127.0.0.1:3306/relay";
  const chunk = Number(args.chunk ?? 500);
  const maxChunks = args["max-chunks"] === undefined ? Infinity : Number(args["max-chunks"]);
  if (!Number.isInteger(chunk) || chunk < 1) usage("--chunk must be a positive integer");
  if (maxChunks !== Infinity && (!Number.isInteger(maxChunks) || maxChunks < 1)) usage("--max-chunks must be a positive integer");
  const workspace = args.workspace;
  if (workspace !== undefined && !/^ws_[A-Za-z0-9]+$/.test(workspace)) usage("--workspace takes a workspace id (ws_…)");

  const source = openSource(from);
  let conn;
  try {
    conn = await mysql.createConnection({ uri: to, connectTimeout: 5000, supportBigNumbers: true });
  } catch (e) {
    source.done();
    console.error(`store-copy: cannot connect to ${redact(to)}: ${e.message}`);
    return EXIT.error;
  }
  try {
    await checkMigrations(conn);
    const tables = sourceTables(source.db);
    if (workspace && !source.db.prepare("SELECT 1 FROM `workspaces` WHERE `id` = ?").get(workspace)) throw new Error(`the source has no workspace ${workspace}`);
    console.log(`store-copy: ${path.relative(process.cwd(), from) || from} → ${redact(to)}${workspace ? `, workspace ${workspace}` : ", every workspace"}`);

    let chunks = 0;
    let stopped = false;
    for (const table of tables) {
      const dest = await destinationColumns(conn, table.name);
      if (dest.size === 0) throw new Error(`the destination has no table ${table.name}`);
      const missing = table.columns.filter((c) => !dest.has(c));
      if (missing.length) throw new Error(`the destination's ${table.name} has no column ${missing.join(", ")}`);
      const columns = table.columns.filter((c) => !dest.get(c).generated);
      const where = scope(table, workspace);
      const pkList = table.pk.map(q).join(", ");
      const read = source.db.prepare(`SELECT ${columns.map(q).join(", ")} FROM ${q(table.name)} WHERE ${where.sql} ORDER BY ${pkList} LIMIT ?`);
      const readAfter = source.db.prepare(
        `SELECT ${columns.map(q).join(", ")} FROM ${q(table.name)} WHERE ${where.sql} AND (${pkList}) > (${table.pk.map(() => "?").join(", ")}) ORDER BY ${pkList} LIMIT ?`,
      );
      let last = null;
      let inserted = 0;
      for (;;) {
        if (chunks >= maxChunks) {
          stopped = true;
          break;
        }
        const rows = last === null ? read.all(...where.values, chunk) : readAfter.all(...where.values, ...last, chunk);
        if (rows.length === 0) break;
        chunks++;
        last = table.pk.map((c) => rows.at(-1)[c]);
        const have = await present(conn, table, rows.map((r) => table.pk.map((c) => r[c])));
        const todo = rows.filter((r) => !have.has(keyOf(table.pk.map((c) => r[c]))));
        if (todo.length) await insert(conn, table, columns, todo.map((r) => columns.map((c) => convert(r[c], dest.get(c)))));
        inserted += todo.length;
        if (rows.length < chunk) break;
      }
      if (inserted) console.log(`store-copy: ${table.name}: ${inserted} rows copied`);
      if (stopped) break;
    }
    if (stopped) {
      console.log(`store-copy: stopped after ${chunks} chunks (--max-chunks); run the same command again to continue`);
      return EXIT.stopped;
    }

    // Every table's rows in scope, on both sides.
    const my = async (sql, values) => (await conn.query(sql, values))[0];
    const lite = async (sql, values) => source.db.prepare(sql).all(...values);
    const report = [];
    for (const table of tables) {
      const where = scope(table, workspace);
      report.push({ table: table.name, source: await count(lite, table, where), destination: await count(my, table, where) });
    }
    const width = Math.max(...report.map((r) => r.table.length));
    console.log(`store-copy: ${"table".padEnd(width)}  ${"source".padStart(9)}  ${"destination".padStart(11)}`);
    for (const r of report) console.log(`store-copy: ${r.table.padEnd(width)}  ${String(r.source).padStart(9)}  ${String(r.destination).padStart(11)}${r.source === r.destination ? "" : "  MISMATCH"}`);
    const bad = report.filter((r) => r.source !== r.destination);
    if (bad.length) {
      console.error(`store-copy: ${bad.length} table(s) differ: ${bad.map((r) => r.table).join(", ")}`);
      return EXIT.mismatch;
    }
    console.log(`store-copy: done, ${report.reduce((n, r) => n + r.source, 0)} rows in ${report.length} tables agree`);
    return EXIT.ok;
  } catch (e) {
    console.error(`store-copy: ${safe(e)}`);
    return EXIT.error;
  } finally {
    await conn.end().catch(() => {});
    source.done();
  }
}

process.exitCode = await main();
