// Issue 18 (a): tenant-supplied patterns run on RE2, so no pattern can stall an isolate that
// also serves other workspaces; what RE2 cannot compile is refused at save time with a reason,
// and a stored rule that RE2 cannot compile fails closed instead of crashing delivery.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

describe("tenant regexes", async () => {
  const ws = await createWorkspace();
  const setPolicy = (policy: unknown) => api("/v1/workspace/dlp", { method: "PUT", key: ws.key, json: policy });

  it("a catastrophic-backtracking DLP pattern is judged (no match) instead of stalling the isolate", async () => {
    // On V8 each extra "a" doubled the time (878 ms at 24); 40 would take days.
    expect((await setPolicy({ action: "reject", rules: [{ name: "evil", pattern: "^(a+)+$", fields: ["subject"] }] })).status).toBe(200);
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: `${"a".repeat(40)}!` }) });
    expect(res.status).toBe(202);
    const hit = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { subject: "a".repeat(40) }) });
    expect(hit.status).toBe(422);
  }, 20_000);

  it("refuses at save time what RE2 cannot compile, saying why", async () => {
    for (const [pattern, why] of [
      ["MRN(?=\\d{6})", "lookahead and lookbehind"],
      ["(\\d)\\1{5}", "backreferences"],
    ]) {
      const res = await setPolicy({ action: "reject", rules: [{ name: "r", pattern, fields: ["subject"] }] });
      expect(res.status).toBe(400);
      const err = (await json(res)).error;
      expect(err.code).toBe("validation_error");
      expect(err.message).toContain("rules.0.pattern");
      expect(err.message).toContain(why);
    }
  });

  it("refuses a program too large for the engine on every save route (checked only once the engine is loaded)", async () => {
    const huge = "[a-z]{900}";
    const dlp = await setPolicy({ action: "reject", rules: [{ name: "big", pattern: huge, fields: ["subject"] }] });
    expect(dlp.status).toBe(400);
    expect((await json(dlp)).error.message).toMatch(/rules\.0\.pattern.*too complex/);
    const llm = await api("/v1/workspace/llm", { method: "PUT", key: ws.key, json: { phi_patterns: [{ name: "big", pattern: huge }] } });
    expect(llm.status).toBe(400);
    expect((await json(llm)).error.message).toMatch(/phi_patterns\.0\.pattern.*too complex/);
    const patch = await api("/v1/workspace", { method: "PATCH", key: ws.key, json: { llm: { phi_patterns: [{ name: "big", pattern: huge }] } } });
    expect(patch.status).toBe(400);
    expect((await json(patch)).error.message).toMatch(/too complex/);
  });

  it("LLM phi_patterns are refused the same way", async () => {
    const res = await api("/v1/workspace/llm", { method: "PUT", key: ws.key, json: { phi_patterns: [{ name: "p", pattern: "(?<=MRN)\\d+" }] } });
    expect(res.status).toBe(400);
    const err = (await json(res)).error;
    expect(err.code).toBe("validation_error");
    expect(err.message).toContain("lookahead and lookbehind");
    expect((await json(await api("/v1/workspace/llm", { key: ws.key }))).phi_patterns ?? []).toEqual([]);
  });

  it("a stored rule RE2 cannot compile (saved before RE2) fails closed: mail is refused, not crashed or let through", async () => {
    const other = await createWorkspace();
    expect((await api("/v1/workspace/dlp", { method: "PUT", key: other.key, json: { action: "reject", rules: [{ name: "ok", pattern: "x" }] } })).status).toBe(200);
    const legacy = { action: "reject", rules: [{ name: "legacy", pattern: "MRN(?=\\d)", fields: ["subject"] }] };
    await env.DB.prepare("UPDATE workspace_security SET dlp = ? WHERE workspace_id = ?").bind(JSON.stringify(legacy), other.id).run();
    const res = await api("/v1/messages", { method: "POST", key: other.key, json: message(other, { subject: "nothing forbidden" }) });
    expect(res.status).toBe(422);
    expect((await json(res)).error.message).toContain("legacy");
  });
});
