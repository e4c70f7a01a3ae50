import { describe, expect, it } from "vitest";
import { byShape, insertRows } from "./fast-insert";
import { messages } from "./schema";

// A D1 stand-in that records what would be prepared and bound.
function recorder() {
  const seen: { sql: string; params: unknown[] }[] = [];
  const d1 = {
    prepare: (sql: string) => ({ bind: (...params: unknown[]) => (seen.push({ sql, params }), { sql, params }) }),
  } as unknown as D1Database;
  return { d1, seen };
}

describe("fast insert", () => {
  it("maps values like drizzle (json → text, boolean → 0/1) and leaves undefined to the column default", () => {
    const { d1, seen } = recorder();
    insertRows(d1, messages, [{ id: "msg_1", workspaceId: "ws_1", toEmails: ["a@x.org"], forceSend: true, notBefore: undefined, tags: [] }]);
    expect(seen[0]!.sql).toBe(`INSERT INTO "messages" ("id", "workspace_id", "to_emails", "force_send", "tags") VALUES (?, ?, ?, ?, ?)`);
    expect(seen[0]!.params).toEqual(["msg_1", "ws_1", '["a@x.org"]', 1, "[]"]);
  });

  it("refuses a key that is not a column, and groups rows by the keys they set", () => {
    const { d1 } = recorder();
    expect(() => insertRows(d1, messages, [{ id: "x", nope: 1 } as never])).toThrow(/no column nope/);
    const groups = byShape([{ a: 1, b: undefined }, { a: 2, b: 3 }, { a: 4 }]);
    expect(groups.map((g) => g.length)).toEqual([2, 1]);
  });
});
