// The optional MySQL read replica (HYPERDRIVE_REPLICA; db/mysql/store/sql.ts Runner.lagging):
// the reads that tolerate lag go to the replica's connection, and nothing else does — not the
// message status a client polls right after its 202, not a credential look-up, not a write. The
// "replica" here is a second connection to the same database that records every statement it runs.
import { describe, expect, it } from "vitest";
import type { MysqlConnection } from "../../db/mysql/connection";
import { mysqlStore } from "../../db/mysql/store";
import { connect, connectDb, createWorkspace, queuedMessage } from "./helpers";

/** The connection, with every statement's text recorded in `seen`. */
function recording(conn: MysqlConnection, seen: string[]): MysqlConnection {
  return new Proxy(conn, {
    get(target, name, receiver) {
      const v = Reflect.get(target, name, receiver);
      if (name !== "query" && name !== "execute") return typeof v === "function" ? v.bind(target) : v;
      return (sql: unknown, ...rest: unknown[]) => {
        seen.push(typeof sql === "string" ? sql : String((sql as { sql?: string }).sql ?? sql));
        return (v as (...a: unknown[]) => unknown).call(target, sql, ...rest);
      };
    },
  });
}

describe("MySQL read replica", { timeout: 30_000 }, () => {
  it("lists, campaign statistics, the audit trail, event lists and /metrics read the replica; status, credentials and writes the primary", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id } = await queuedMessage(db, ws, ["a@example.net"]);
    const onPrimary: string[] = [];
    const onReplica: string[] = [];
    const store = mysqlStore(recording(await connect(), onPrimary), { replica: recording(await connect(), onReplica) });

    // Reads that tolerate lag.
    expect((await store.messages.list(ws, { limit: 10 })).map((m) => m.id)).toEqual([id]);
    await store.audit.list(ws, { limit: 10 });
    await store.recipients.listRecipients(ws, { limit: 10 });
    await store.campaigns.listCampaigns(ws, { limit: 10 });
    await store.metrics.snapshot();
    const replicaReads = onReplica.length;
    expect(replicaReads).toBeGreaterThanOrEqual(5);
    expect(onPrimary).toEqual([]);

    // What must see the latest write: the status poll, a key look-up, a write.
    expect((await store.messages.message(ws, id))?.message.id).toBe(id);
    await store.tenants.crossTenantApiKeyByHash("no-such-hash");
    await store.delivery.markDueAt(ws, id, Date.now());
    expect(onPrimary.length).toBeGreaterThanOrEqual(3);
    expect(onReplica.length).toBe(replicaReads);
    await store.close();
  });

  it("without a replica every read runs on the primary", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    await queuedMessage(db, ws, ["b@example.net"]);
    const onPrimary: string[] = [];
    const store = mysqlStore(recording(await connect(), onPrimary));
    expect(await store.messages.list(ws, { limit: 10 })).toHaveLength(1);
    expect(onPrimary.length).toBeGreaterThan(0);
  });
});
