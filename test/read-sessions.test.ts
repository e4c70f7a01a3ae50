// D1 read replication through the Sessions API (workers/api/middleware/database.ts): a request
// that sends Relay-Bookmark (`first-primary` to start, then the last bookmark it got) runs in a
// session and its answer carries the session's bookmark; one without the header reads the primary
// and gets none; a value the API did not write is refused before it reaches D1.
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

const BOOKMARK = /^[0-9a-f]+(-[0-9a-f]+)+$/i;

describe("read sessions and bookmarks", () => {
  it("answers a send with a bookmark, and a read with that bookmark sees the message", async () => {
    const ws = await createWorkspace();
    const sent = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws), headers: { "Relay-Bookmark": "first-primary" } });
    expect(sent.status).toBe(202);
    const bookmark = sent.headers.get("relay-bookmark");
    expect(bookmark).toMatch(BOOKMARK);
    const { id } = await json(sent);

    const read = await api(`/v1/messages/${id}`, { key: ws.key, headers: { "Relay-Bookmark": bookmark! } });
    expect(read.status).toBe(200);
    expect((await json(read)).id).toBe(id);
    // The session moves on: its bookmark is never older than the one it started from.
    const next = read.headers.get("relay-bookmark");
    expect(next).toMatch(BOOKMARK);
    expect(next! >= bookmark!).toBe(true);
  });

  it("reads the primary without the header, and answers without a bookmark", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/messages?limit=1", { key: ws.key });
    expect(res.status).toBe(200);
    expect(res.headers.get("relay-bookmark")).toBeNull();
  });

  it("refuses a bookmark the API did not write", async () => {
    const ws = await createWorkspace();
    for (const bad of ["first-unconstrained", "abc", "00-zz", "0".repeat(70) + "-1", "00000000-0000-0000-0000-00000000000g"]) {
      const res = await api("/v1/messages?limit=1", { key: ws.key, headers: { "Relay-Bookmark": bad } });
      expect(res.status, bad).toBe(400);
      expect((await json(res)).error.code).toBe("validation_error");
    }
  });
});
