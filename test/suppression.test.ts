import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

async function suppress(workspaceId: string, email: string, status: "bounced" | "complained" | "unsubscribed") {
  await env.DB.prepare("insert into recipients (id, workspace_id, email, status) values (?, ?, ?, ?)").bind(`rcp_${crypto.randomUUID()}`, workspaceId, email, status).run();
}

describe("suppression at accept", () => {
  it("drops suppressed recipients with status `suppressed`; the rest of the message still goes", async () => {
    const ws = await createWorkspace();
    await suppress(ws.id, "Bounced@Example.net", "bounced");
    const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["bounced@example.net", "ok@example.net"] }) });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted.recipients).toEqual([
      { email: "bounced@example.net", status: "suppressed" },
      { email: "ok@example.net", status: "queued" },
    ]);
    const done = await waitForStatus(ws, accepted.id, ["partially_failed", "sent"]);
    const by = Object.fromEntries(done.recipients.map((r: any) => [r.email, r]));
    expect(by["ok@example.net"].status).toBe("sent");
    expect(by["bounced@example.net"]).toMatchObject({ status: "suppressed", attempts: 0 });
    expect(by["bounced@example.net"].last_error).toContain("bounced");
    const rendered = await (await api(`/v1/messages/${accepted.id}/rendered`, { key: ws.key })).text();
    expect(rendered).toContain("ok@example.net");
  });

  it("a message whose every recipient is suppressed is stored, reported failed and never queued", async () => {
    const ws = await createWorkspace();
    await suppress(ws.id, "gone@example.net", "complained");
    const accepted = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["gone@example.net"] }) }));
    expect(accepted.status).toBe("failed");
    const detail = await json(await api(`/v1/messages/${accepted.id}`, { key: ws.key }));
    expect(detail.status).toBe("failed");
    expect(detail.attempts).toEqual([]);
  });

  it("an idempotent repeat answers exactly what the first request answered, suppressed recipients included", async () => {
    const ws = await createWorkspace();
    await suppress(ws.id, "unsub@example.net", "unsubscribed");
    const send = () =>
      api("/v1/messages", {
        method: "POST",
        key: ws.key,
        headers: { "Idempotency-Key": "same-key-1" },
        json: message(ws, { to: ["a@example.net", "unsub@example.net", "b@example.net"] }),
      });
    const first = await json(await send());
    expect(first.recipients).toEqual([
      { email: "a@example.net", status: "queued" },
      { email: "unsub@example.net", status: "suppressed" },
      { email: "b@example.net", status: "queued" },
    ]);
    const again = await send();
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual(first);
  });

  it("another workspace's suppression list does not apply", async () => {
    const a = await createWorkspace();
    const b = await createWorkspace();
    await suppress(a.id, "shared@example.net", "unsubscribed");
    const accepted = await json(await api("/v1/messages", { method: "POST", key: b.key, json: message(b, { to: ["shared@example.net"] }) }));
    expect(accepted.recipients[0].status).toBe("queued");
  });
});
