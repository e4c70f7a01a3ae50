import { describe, expect, it } from "vitest";
import { RelayError } from "../../core/errors";
import { idCursor, readPage, timeIdCursor } from "./pagination";

type Row = { createdAt: number; id: string };
const rows: Row[] = [5, 4, 3, 2, 1].map((n) => ({ createdAt: n * 1000, id: `cmp_${n}` }));

// A store that pages newest first from a keyset, as the db/ list functions do.
const store = async (before: Row | undefined, limit: number) => rows.filter((r) => !before || r.createdAt < before.createdAt).slice(0, limit);

describe("cursor pagination", () => {
  const cursor = timeIdCursor("createdAt", "cmp");

  it("walks every row once, page by page, and ends with next_cursor null", async () => {
    const seen: string[] = [];
    let next: string | undefined;
    for (let i = 0; i < 5; i++) {
      const { page, next_cursor } = await readPage({ limit: 2, cursor: next }, cursor, store);
      seen.push(...page.map((r) => r.id));
      if (next_cursor === null) break;
      next = next_cursor;
    }
    expect(seen).toEqual(["cmp_5", "cmp_4", "cmp_3", "cmp_2", "cmp_1"]);
  });

  it("a full last page has no next cursor (the limit + 1 probe found nothing more)", async () => {
    expect((await readPage({ limit: 5 }, cursor, store)).next_cursor).toBeNull();
    expect((await readPage({ limit: 4 }, cursor, store)).next_cursor).not.toBeNull();
  });

  it("round-trips the keyset and refuses a cursor it did not write", () => {
    expect(cursor.decode(cursor.encode({ createdAt: 42, id: "cmp_x" }))).toEqual({ createdAt: 42, id: "cmp_x" });
    const other = timeIdCursor("createdAt", "msg").encode({ createdAt: 42, id: "msg_x" });
    for (const bad of [other, "not-base64!", "", btoa("42:cmp_x; drop")]) {
      expect(() => cursor.decode(bad)).toThrow(RelayError);
    }
    const members = idCursor("rcp", (m: { recipientId: string }) => m.recipientId);
    expect(members.decode(members.encode({ recipientId: "rcp_1" }))).toBe("rcp_1");
    expect(() => members.decode(cursor.encode({ createdAt: 1, id: "cmp_1" }))).toThrow(/cursor: not a cursor this API returned/);
  });
});
