// Claims on MySQL never hand one recipient to two consumers. Twenty consumers race, each on its
// own connection through Hyperdrive, as twenty queue invocations would:
//   - a conditional UPDATE (the D1 claim's shape): InnoDB's row lock makes the others re-read the
//     row after the winner commits, and they find it no longer claimable;
//   - the whole message, as loadAndClaim claims it: SELECT … FOR UPDATE then UPDATE those ids in
//     one transaction (MySQL has no UPDATE … RETURNING: the locked SELECT says which rows);
//   - a queue of due messages: SELECT … FOR UPDATE SKIP LOCKED, each taken exactly once.
import { describe, expect, it } from "vitest";
import type { MysqlConnection } from "../../db/mysql/connection";
import { connect, connectDb, createWorkspace, queuedMessage, rows, write } from "./helpers";

const CLAIMERS = 20;
const LEASE_MS = 30_000;
const LEGACY_LEASE_MS = 120_000;

const CLAIMABLE = `(status IN ('queued', 'deferred') OR (status = 'sending' AND coalesce(lease_until, updated_at + ${LEGACY_LEASE_MS}) <= ?))`;

/** Twenty connections, all open at once before the race, so the race is only the claims. */
async function claimers(): Promise<MysqlConnection[]> {
  const conns = await Promise.all(Array.from({ length: CLAIMERS }, () => connect()));
  const [open] = await rows<{ n: number }>(conns[0]!, `SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = SUBSTRING_INDEX(USER(), '@', 1)`);
  expect(Number(open!.n)).toBeGreaterThanOrEqual(CLAIMERS);
  return conns;
}

describe(`${CLAIMERS} consumers claim the same job`, { timeout: 30_000 }, () => {
  it("a conditional UPDATE of one recipient: exactly one wins", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id, recipientIds } = await queuedMessage(db, ws, ["one@example.net"]);
    const conns = await claimers();
    const at = Date.now();
    const results = await Promise.all(
      conns.map((c) =>
        write(
          c,
          `UPDATE message_recipients SET status = 'sending', updated_at = ?, attempts = attempts + 1, lease_until = ?
           WHERE workspace_id = ? AND message_id = ? AND id = ? AND ${CLAIMABLE}`,
          [at, at + LEASE_MS, ws, id, recipientIds[0], at],
        ),
      ),
    );
    expect(results.filter((n) => n === 1)).toHaveLength(1);
    expect(results.filter((n) => n === 0)).toHaveLength(CLAIMERS - 1);
    expect(await rows(conns[0]!, `SELECT status, attempts FROM message_recipients WHERE id = ?`, [recipientIds[0]])).toEqual([{ status: "sending", attempts: 1 }]);
  });

  it("the whole message (SELECT … FOR UPDATE, then UPDATE those ids, one transaction): one consumer gets every recipient, the others none", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const emails = ["a", "b", "c", "d", "e"].map((l) => `${l}@example.net`);
    const { id } = await queuedMessage(db, ws, emails);
    const conns = await claimers();
    const at = Date.now();
    const claimed = await Promise.all(
      conns.map(async (c) => {
        await c.beginTransaction();
        try {
          const locked = await rows<{ id: string }>(c, `SELECT id FROM message_recipients WHERE workspace_id = ? AND message_id = ? AND ${CLAIMABLE} FOR UPDATE`, [ws, id, at]);
          const ids = locked.map((r) => r.id);
          if (ids.length) {
            const changed = await write(
              c,
              `UPDATE message_recipients SET status = 'sending', updated_at = ?, attempts = attempts + 1, lease_until = ? WHERE workspace_id = ? AND id IN (?)`,
              [at, at + LEASE_MS, ws, ids],
            );
            expect(changed).toBe(ids.length);
          }
          await c.commit();
          return ids;
        } catch (e) {
          await c.rollback();
          throw e;
        }
      }),
    );
    const winners = claimed.filter((ids) => ids.length > 0);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toHaveLength(emails.length);
    expect(await rows(conns[0]!, `SELECT DISTINCT status, attempts FROM message_recipients WHERE message_id = ?`, [id])).toEqual([{ status: "sending", attempts: 1 }]);
  });

  it("a lapsed claim is taken over once, a live one never", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const { id, recipientIds } = await queuedMessage(db, ws, ["lapsed@example.net", "live@example.net"]);
    const c = await connect();
    const now = Date.now();
    await write(c, `UPDATE message_recipients SET status = 'sending', updated_at = ?, lease_until = ? WHERE id = ?`, [now - 60_000, now - 1, recipientIds[0]]);
    await write(c, `UPDATE message_recipients SET status = 'sending', updated_at = ?, lease_until = ? WHERE id = ?`, [now - 60_000, now + 60_000, recipientIds[1]]);
    const conns = await claimers();
    const results = await Promise.all(
      conns.map((k) =>
        write(k, `UPDATE message_recipients SET updated_at = ?, attempts = attempts + 1, lease_until = ? WHERE workspace_id = ? AND message_id = ? AND ${CLAIMABLE}`, [
          now,
          now + LEASE_MS,
          ws,
          id,
          now,
        ]),
      ),
    );
    expect(results.reduce((a, b) => a + b, 0)).toBe(1);
    const after = await rows<{ id: string; attempts: number }>(c, `SELECT id, attempts FROM message_recipients WHERE message_id = ? ORDER BY id = ? DESC`, [id, recipientIds[0]]);
    expect(after.map((r) => r.attempts)).toEqual([1, 0]);
  });

  it("a queue of due messages (SELECT … FOR UPDATE SKIP LOCKED): every message is taken exactly once", async () => {
    const { db } = await connectDb();
    const ws = await createWorkspace(db);
    const due = await Promise.all(Array.from({ length: 30 }, (_, i) => queuedMessage(db, ws, [`q${i}@example.net`], 1_000_000 + i)));
    const conns = await claimers();
    const taken = await Promise.all(
      conns.map(async (c) => {
        const mine: string[] = [];
        for (;;) {
          await c.beginTransaction();
          const [row] = await rows<{ id: string }>(c, `SELECT id FROM messages WHERE workspace_id = ? AND status = 'queued' ORDER BY queued_at LIMIT 1 FOR UPDATE SKIP LOCKED`, [ws]);
          const next = row?.id;
          if (next) await write(c, `UPDATE messages SET status = 'sending' WHERE id = ?`, [next]);
          await c.commit();
          if (!next) return mine;
          mine.push(next);
        }
      }),
    );
    const all = taken.flat();
    expect(all).toHaveLength(due.length);
    expect(new Set(all).size).toBe(due.length);
    expect(new Set(all)).toEqual(new Set(due.map((m) => m.id)));
  });
});
