// Tests of scripts/store-copy.mjs (node:test, plain Node): a SQLite file built with the D1
// migrations and two workspaces' rows is copied into the MySQL test database (emptied here and
// given the MySQL migrations, as test/mysql/global-setup.ts does before the MySQL tests; the test
// user may hold no other database), through the command itself. Run by scripts/test-mysql.mjs (the MySQL step of `npm test`) when a MySQL
// server answers; alone: RELAY_MYSQL_TEST_URL=mysql://… node --test scripts/store-copy.test.mjs
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { readMigrationFiles } from "drizzle-orm/migrator";
import mysql from "mysql2/promise";
import { applyMysqlMigrations } from "../db/mysql/migrate.ts";

const root = path.resolve(import.meta.dirname, "..");
const testUrl = new URL(process.env.RELAY_MYSQL_TEST_URL ?? "mysql://relay:relay@127.0.0.1:3306/relay_test");
const base = decodeURIComponent(testUrl.pathname.slice(1));
const urlOf = (database) => Object.assign(new URL(testUrl), { pathname: `/${database}` }).toString();
const server = urlOf("");

const A = "ws_copyA";
const B = "ws_copyB";
const dir = mkdtempSync(path.join(os.tmpdir(), "store-copy-test-"));
const file = path.join(dir, "d1.sqlite");
const dump = path.join(dir, "dump.sql");
const main = base;
let admin;
let conn;

const lit = (v) => (v === null ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replaceAll("'", "''")}'`);
const insertSql = (table, row) => `INSERT INTO \`${table}\` (${Object.keys(row).map((c) => `\`${c}\``).join(", ")}) VALUES (${Object.values(row).map(lit).join(", ")});\n`;

/** One workspace's rows in every kind of column (JSON, booleans, generated, autoincrement, a reserved name), as SQL text. */
function workspaceRows(ws, messages) {
  let sql = "";
  const row = (table, r) => (sql += insertSql(table, r));
  row("workspaces", { id: ws, slug: ws.toLowerCase().replace("_", "-"), display_name: `Clinic ${ws}`, configuration: JSON.stringify({ tz: "Europe/Berlin" }) });
  row("workspace_security", { workspace_id: ws, retention_days: 7, dlp: JSON.stringify({ mode: "flag" }), updated_at: 1 });
  for (const [i, baa] of [0, 1].entries()) {
    const prv = `prv_${ws}_${i}`;
    row("providers", { id: prv, workspace_id: ws, name: `p${i}`, type: "sandbox", config: JSON.stringify({ timeout_ms: 1000 + i }), baa_covered: baa, priority: i });
    row("provider_webhook_tokens", { provider_id: prv, token: `tok-${i}`, created_at: 5 });
  }
  row("circuit_breakers", { provider_id: `prv_${ws}_0`, workspace_id: ws, state: "open", state_changed_at: 9 });
  row("sender_domains", { id: `sd_${ws}`, workspace_id: ws, domain: `${ws.toLowerCase()}.example`, verification_token: "t", verified_at: 3 });
  row("recipients", { id: `rcp_${ws}`, workspace_id: ws, email: "Pat@Example.NET", metadata: "{}", created_at: 1, updated_at: 1 });
  for (let m = 0; m < messages; m++) {
    const id = `msg_${ws}_${String(m).padStart(2, "0")}`;
    row("messages", {
      id,
      workspace_id: ws,
      source: "api",
      message_id_header: `<${id}@x.example>`,
      from_email: "noreply@clinic.example",
      to_emails: JSON.stringify(["a@example.net", "b@example.net"]),
      status: "sent",
      tags: JSON.stringify(["lab"]),
      metadata: JSON.stringify({ k: "v" }),
      body_enc: "ciphertext",
      size_bytes: 100,
      force_send: m % 2,
      queued_at: 1700000000000 + m,
      // A REAL in an integer column, as D1's unixepoch('subsec') * 1000 defaults leave.
      updated_at: 1700000000000.4,
    });
    for (const [k, email] of ["a@example.net", "b@example.net"].entries()) {
      row("message_recipients", { id: `mr_${id}_${k}`, message_id: id, workspace_id: ws, email, kind: "to", status: "sent", bounce: k ? JSON.stringify({ reason: "blocked", cause: "sender", type: "hard" }) : null });
    }
    row("message_headers", { message_id: id, workspace_id: ws, name: "X-Clinic" });
    row("attachments", { id: `att_${id}`, message_id: id, workspace_id: ws, filename_enc: "enc", content_type: "application/pdf", size_bytes: 3 });
    row("audit_logs", { id: `aud_${id}`, workspace_id: ws, actor: "system", action: "a", resource: "r", outcome: "success", detail: JSON.stringify({ n: m }), created_at: m });
  }
  row("idempotency_keys", { workspace_id: ws, key: "key-1", request_hash: "h", message_id: `msg_${ws}_00`, response_status: 202, response_body: "{}" });
  return sql;
}

/** The D1 migrations, as `wrangler d1 migrations apply` runs them. */
const d1Schema = () =>
  readdirSync(path.join(root, "migrations"))
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => readFileSync(path.join(root, "migrations", f), "utf8"))
    .join("\n");

const seedSql = () => workspaceRows(A, 3) + workspaceRows(B, 4) + insertSql("audit_logs", { id: "aud_platform", workspace_id: null, actor: "platform_admin", action: "workspace.created", resource: "r", outcome: "success", created_at: 1 });

function copy(...args) {
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "store-copy.mjs"), ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

async function freshDatabase(name, migrate) {
  assert.match(name, /_test$/, "only a database whose name ends in _test is emptied");
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\``);
  if (!migrate) return;
  const c = await mysql.createConnection({ uri: urlOf(name) });
  await applyMysqlMigrations(c, readMigrationFiles({ migrationsFolder: path.join(root, "migrations-mysql") }));
  await c.end();
}

const sqlite = new DatabaseSync(":memory:");
const liteCount = (db, table, where = "1 = 1", values = []) => Number(db.prepare(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`).get(...values).n);
const myCount = async (table, where = "1 = 1", values = []) => Number((await conn.query(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE ${where}`, values))[0][0].n);
const TABLES = ["workspaces", "workspace_security", "providers", "provider_webhook_tokens", "circuit_breakers", "sender_domains", "recipients", "messages", "message_recipients", "message_headers", "attachments", "audit_logs", "idempotency_keys"];
const inWs = (table) => (table === "workspaces" ? "`id` = ?" : table === "provider_webhook_tokens" ? "`provider_id` IN (SELECT `id` FROM `providers` WHERE `workspace_id` = ?)" : "`workspace_id` = ?");

before(async () => {
  admin = await mysql.createConnection({ uri: server });
  await freshDatabase(main, true);
  conn = await mysql.createConnection({ uri: urlOf(main) });
  const schema = d1Schema();
  const db = new DatabaseSync(file);
  db.exec(schema);
  db.exec(seedSql());
  db.close();
  sqlite.exec(schema);
  sqlite.exec(seedSql());
  // What `wrangler d1 export` writes: the schema, then the rows as INSERT statements.
  writeFileSync(dump, `PRAGMA defer_foreign_keys=TRUE;\n${schema}\n${seedSql()}`);
});

after(async () => {
  await conn?.end();
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

test("one workspace: its rows arrive in the columns' shapes, nothing of the other workspace or the platform", async () => {
  const r = copy("--from", file, "--to", urlOf(main), "--workspace", A, "--chunk", "2");
  assert.equal(r.status, 0, r.err + r.out);
  assert.match(r.out, /rows in \d+ tables agree/);
  for (const t of TABLES) {
    assert.equal(await myCount(t, inWs(t), [A]), liteCount(sqlite, t, inWs(t), [A]), `${t}: ${A}'s rows`);
    assert.equal(await myCount(t, inWs(t), [B]), 0, `${t}: none of ${B}'s`);
  }
  assert.equal(await myCount("audit_logs", "`workspace_id` IS NULL"), 0);
  const [[m]] = await conn.query("SELECT force_send, updated_at, JSON_UNQUOTE(JSON_EXTRACT(tags, '$[0]')) AS tag, JSON_UNQUOTE(JSON_EXTRACT(metadata, '$.k')) AS k FROM messages WHERE id = ?", [`msg_${A}_01`]);
  assert.deepEqual({ ...m }, { force_send: 1, updated_at: 1700000000000, tag: "lab", k: "v" });
  const [[p]] = await conn.query("SELECT baa_covered, JSON_EXTRACT(config, '$.timeout_ms') + 0 AS t FROM providers WHERE id = ?", [`prv_${A}_1`]);
  assert.deepEqual({ ...p }, { baa_covered: 1, t: 1001 });
  // Generated by the destination from the copied columns.
  const [[rc]] = await conn.query("SELECT email_lower FROM recipients WHERE id = ?", [`rcp_${A}`]);
  assert.equal(rc.email_lower, "pat@example.net");
  const [[sd]] = await conn.query("SELECT verified_domain FROM sender_domains WHERE id = ?", [`sd_${A}`]);
  assert.equal(sd.verified_domain, "ws_copya.example");
});

test("interrupted, then run again: it continues where it stopped, each row once", async () => {
  const stopped = copy("--from", file, "--to", urlOf(main), "--workspace", B, "--chunk", "2", "--max-chunks", "6");
  assert.equal(stopped.status, 3, stopped.err + stopped.out);
  assert.match(stopped.out, /run the same command again/);
  const partial = await myCount("messages", "`workspace_id` = ?", [B]);
  const partialRecipients = await myCount("message_recipients", "`workspace_id` = ?", [B]);
  assert.ok(partialRecipients < liteCount(sqlite, "message_recipients", "`workspace_id` = ?", [B]), "stopped before the end");
  const again = copy("--from", file, "--to", urlOf(main), "--workspace", B, "--chunk", "3");
  assert.equal(again.status, 0, again.err + again.out);
  assert.ok(partial <= 4);
  for (const t of TABLES) assert.equal(await myCount(t, inWs(t), [B]), liteCount(sqlite, t, inWs(t), [B]), `${t}: ${B}'s rows, once`);
});

test("the whole relay: the rest (the platform's audit row) arrives, every count agrees; a rerun copies nothing", async () => {
  const r = copy("--from", file, "--to", urlOf(main));
  assert.equal(r.status, 0, r.err + r.out);
  assert.equal(await myCount("audit_logs", "`workspace_id` IS NULL"), 1);
  for (const t of TABLES) assert.equal(await myCount(t), liteCount(sqlite, t), t);
  const rerun = copy("--from", file, "--to", urlOf(main));
  assert.equal(rerun.status, 0, rerun.err + rerun.out);
  assert.doesNotMatch(rerun.out, /rows copied/);
});

test("a destination that holds rows the source does not: the counts differ and it exits 2", async () => {
  await conn.query("INSERT INTO workspaces (id, slug, display_name) VALUES ('ws_copyExtra', 'copy-extra', 'x')");
  const r = copy("--from", file, "--to", urlOf(main));
  assert.equal(r.status, 2, r.err + r.out);
  assert.match(r.out, /workspaces\s+2\s+3\s+MISMATCH/);
  assert.match(r.err, /1 table\(s\) differ: workspaces/);
});

test("refuses a workspace the source does not have", () => {
  const r = copy("--from", file, "--to", urlOf(main), "--workspace", "ws_nothere");
  assert.equal(r.status, 1);
  assert.match(r.err, /no workspace ws_nothere/);
});

test("refuses a destination without the MySQL migrations; copies from a `wrangler d1 export` dump once they are applied", async () => {
  await conn.end();
  await freshDatabase(main, false);
  conn = await mysql.createConnection({ uri: urlOf(main) });
  const refused = copy("--from", dump, "--to", urlOf(main));
  assert.equal(refused.status, 1);
  assert.match(refused.err, /0 of \d+ MySQL migrations applied/);
  if (testUrl.password) assert.ok(!(refused.err + refused.out).includes(`:${decodeURIComponent(testUrl.password)}@`), "no password in the output");
  await freshDatabase(main, true);
  const r = copy("--from", dump, "--to", urlOf(main));
  assert.equal(r.status, 0, r.err + r.out);
  assert.match(r.out, /rows in \d+ tables agree/);
  assert.match(r.out, /relay:\*\*\*@/);
});
