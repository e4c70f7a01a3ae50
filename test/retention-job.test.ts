// Retention: content past the workspace's retention (bodies inline or in R2, rendered copies,
// attachment names) is deleted; metadata, recipients and attempts stay; the job leaves an audit row.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runRetention } from "../workers/retention";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

const DAY = 86_400_000;

const row = (id: string) =>
  env.DB.prepare("SELECT status, body_enc, body_r2_key, body_purged_at, from_email, to_emails, size_bytes FROM messages WHERE id = ?")
    .bind(id)
    .first<{ status: string; body_enc: string | null; body_r2_key: string | null; body_purged_at: number | null; from_email: string; size_bytes: number }>();

describe("body retention", async () => {
  const ws = await createWorkspace();
  const small = await json(
    await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: message(ws, { attachments: [{ filename: "lab-results-jane.pdf", content: btoa("%PDF-1.4 x"), content_type: "application/pdf" }] }),
    }),
  );
  const large = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: "x".repeat(20_000) }) }));
  for (const m of [small, large]) await waitForStatus(ws, m.id, ["sent"]);

  it("before: content is stored (inline and in R2) and readable", async () => {
    expect((await row(small.id))!.body_enc).toBeTruthy();
    const big = (await row(large.id))!;
    expect(big.body_r2_key).toBeTruthy();
    expect(await env.BODIES.head(big.body_r2_key!)).not.toBeNull();
    expect(await env.BODIES.head(`rendered/${ws.id}/${small.id}`)).not.toBeNull();
  });

  it("nothing is purged before the retention has passed (default 30 days)", async () => {
    await runRetention(env, Date.now() + 29 * DAY);
    expect((await row(small.id))!.body_purged_at).toBeNull();
  });

  it("after the workspace's retention, content is deleted and metadata kept", async () => {
    expect((await api("/v1/workspace/retention", { method: "PUT", key: ws.key, json: { body_retention_days: 7 } })).status).toBe(200);
    // A message still waiting for delivery keeps its content, however old.
    const waiting = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    await waitForStatus(ws, waiting.id, ["sent"]);
    await env.DB.prepare("UPDATE messages SET status = 'deferred' WHERE id = ?").bind(waiting.id).run();
    const r2Key = (await row(large.id))!.body_r2_key!;

    const report = await runRetention(env, Date.now() + 8 * DAY);
    expect(report.purged).toBeGreaterThanOrEqual(2);

    for (const id of [small.id, large.id]) {
      const r = (await row(id))!;
      expect(r.body_enc).toBeNull();
      expect(r.body_r2_key).toBeNull();
      expect(r.body_purged_at).toBeGreaterThan(0);
      expect(r.status).toBe("sent");
      expect(r.from_email).toBe(`noreply@${ws.domain}`);
      expect(await env.BODIES.head(`rendered/${ws.id}/${id}`)).toBeNull();
    }
    expect(await env.BODIES.head(r2Key)).toBeNull();
    const att = await env.DB.prepare("SELECT filename_enc, size_bytes, content_type FROM attachments WHERE message_id = ?").bind(small.id).first<any>();
    expect(att).toMatchObject({ filename_enc: "", content_type: "application/pdf" });

    // Metadata, recipients and attempts are still served; the content is gone.
    const detail = await json(await api(`/v1/messages/${small.id}`, { key: ws.key }));
    expect(detail.status).toBe("sent");
    expect(detail.recipients[0]).toMatchObject({ email: "patient@example.net", status: "sent" });
    expect(detail.attempts.length).toBeGreaterThan(0);
    expect((await api(`/v1/messages/${small.id}/rendered`, { key: ws.key })).status).toBe(404);

    expect((await row(waiting.id))!.body_enc).toBeTruthy();
  });

  it("records what it did in the audit trail, and a second run does nothing", async () => {
    const rows = (await json(await api("/v1/audit-logs?action=retention.bodies_purged", { key: ws.key }))).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: "system:retention", outcome: "success", resource: `workspace:${ws.id}` });
    expect(rows[0].detail).toMatchObject({ messages: 2, retention_days: 7 });
    const again = await runRetention(env, Date.now() + 8 * DAY);
    expect(again.purged).toBe(0);
  });

  it("retention must be 1-3650 days", async () => {
    for (const days of [0, 5000, 1.5]) {
      expect((await api("/v1/workspace/retention", { method: "PUT", key: ws.key, json: { body_retention_days: days } })).status).toBe(400);
    }
  });
});
