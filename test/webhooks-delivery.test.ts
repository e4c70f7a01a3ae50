// Customer webhooks out: endpoint management (secret shown once, SSRF rules), Standard Webhooks
// signatures checked by an independent implementation, retries with backoff, disabling a
// persistently failing endpoint, the attempt log and replay.
import { env } from "cloudflare:workers";
import { createHmac, timingSafeEqual } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { insertEvents } from "../db/webhooks";
import { newId } from "../core/ids";
import { checkEndpointUrl } from "../workers/webhooks/url-policy";
import { backoffMs, sweepWebhooks } from "../workers/webhooks/deliver";
import { verifyStandardWebhook } from "../core/webhook-signature";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import { captureWebhooks, type CapturedHook } from "./inbound-fixtures";

// The receiver's side, written from the Standard Webhooks spec with node:crypto.
function independentVerify(secret: string, hook: CapturedHook): boolean {
  const id = hook.headers.get("webhook-id")!;
  const ts = hook.headers.get("webhook-timestamp")!;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${hook.body}`).digest();
  return hook.headers
    .get("webhook-signature")!
    .split(" ")
    .some((part) => {
      const [v, sig] = part.split(",");
      const got = Buffer.from(sig ?? "", "base64");
      return v === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
    });
}

async function endpoint(ws: TestWorkspace, events: string[] = ["message.sent"], url = `https://hooks.test/${crypto.randomUUID()}`) {
  const res = await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events } });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

async function send(ws: TestWorkspace) {
  const acc = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
  await waitForStatus(ws, acc.id, ["sent"]);
  return acc.id as string;
}

const eventsOf = async (ws: TestWorkspace, endpointId: string) => (await json(await api(`/v1/webhooks/${endpointId}/events`, { key: ws.key }))).data as any[];

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}

describe("webhook endpoints", () => {
  it("the secret is shown once; URLs must be https and public in production", async () => {
    const ws = await createWorkspace();
    const created = await endpoint(ws);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const listed = await json(await api("/v1/webhooks", { key: ws.key }));
    expect(listed.data[0].secret).toBeUndefined();
    expect(listed.data[0]).toMatchObject({ id: created.id, enabled: true, events: ["message.sent"] });

    for (const url of ["http://hooks.test/x", "https://127.0.0.1/x", "https://10.1.2.3/", "https://[::1]/", "https://169.254.169.254/latest", "https://localhost/x", "ftp://hooks.test/"]) {
      const res = await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url, events: ["message.sent"] } });
      expect(res.status, url).toBe(400);
    }
    const badType = await api("/v1/webhooks", { method: "POST", key: ws.key, json: { url: "https://hooks.test/", events: ["message.exploded"] } });
    expect(badType.status).toBe(400);
    // Read-only keys cannot manage endpoints; another workspace cannot see them.
    const reader = await ws.keyWith(["read"]);
    expect((await api("/v1/webhooks", { key: reader })).status).toBe(403);
    const other = await createWorkspace({ provider: null });
    expect((await api(`/v1/webhooks/${created.id}`, { key: other.key })).status).toBe(404);

    const rotated = await json(await api(`/v1/webhooks/${created.id}`, { method: "PATCH", key: ws.key, json: { rotate_secret: true } }));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
  });

  it("development may allow loopback http (config flag), production never", () => {
    expect(checkEndpointUrl("http://127.0.0.1:8080/hook", true).ok).toBe(true);
    expect(checkEndpointUrl("http://127.0.0.1:8080/hook", false).ok).toBe(false);
    expect(checkEndpointUrl("https://192.168.1.10/hook", false).ok).toBe(false);
    expect(checkEndpointUrl("https://[fd00::1]/hook", false).ok).toBe(false);
    expect(checkEndpointUrl("https://user:pw@hooks.example.com/", false).ok).toBe(false);
    expect(checkEndpointUrl("https://hooks.example.com/x", false).ok).toBe(true);
  });
});

describe("webhook delivery", { timeout: 20_000 }, () => {
  it("message.sent arrives signed; an independent Standard Webhooks check verifies it", async () => {
    const ws = await createWorkspace();
    const ep = await endpoint(ws, ["message.sent", "message.failed"]);
    const hooks = captureWebhooks("https://hooks.test/");
    try {
      const id = await send(ws);
      await until(async () => hooks.calls.length, (n) => n >= 1);
      const [hook] = hooks.calls;
      expect(hook!.url).toBe(ep.url);
      expect(hook!.headers.get("content-type")).toBe("application/json");
      expect(hook!.headers.get("webhook-id")).toMatch(/^wev_/);
      expect(Math.abs(Number(hook!.headers.get("webhook-timestamp")) - Date.now() / 1000)).toBeLessThan(30);
      expect(independentVerify(ep.secret, hook!)).toBe(true);
      expect(await verifyStandardWebhook(ep.secret, { id: hook!.headers.get("webhook-id")!, timestamp: hook!.headers.get("webhook-timestamp")!, signature: hook!.headers.get("webhook-signature")! }, hook!.body, Date.now() / 1000 | 0)).toBe(true);
      // A changed body no longer verifies.
      expect(independentVerify(ep.secret, { ...hook!, body: hook!.body.replace("message.sent", "message.failed") })).toBe(false);

      const payload = JSON.parse(hook!.body);
      expect(payload).toMatchObject({
        type: "message.sent",
        data: { message_id: id, recipient: "patient@example.net", status: "sent", provider: { id: ws.providerId, type: "sandbox" }, attempt: 1 },
      });
      expect(Date.parse(payload.timestamp)).not.toBeNaN();
      const [ev] = await until(() => eventsOf(ws, ep.id), (e) => e[0]?.status === "delivered");
      expect(ev).toMatchObject({ status: "delivered", attempts: 1, last_status_code: 200 });
      expect(ev.attempt_log).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error: null })]);
    } finally {
      hooks.restore();
    }
  });

  it("a 500 is retried with backoff by the sweep, then succeeds", async () => {
    const ws = await createWorkspace();
    const ep = await endpoint(ws);
    const hooks = captureWebhooks("https://hooks.test/", (n) => (n === 1 ? new Response("boom", { status: 500 }) : new Response("ok")));
    try {
      await send(ws);
      const [pending] = await until(() => eventsOf(ws, ep.id), (e) => e[0]?.attempts === 1);
      expect(pending).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500, last_error: "endpoint answered 500" });
      const next = Date.parse(pending.next_attempt_at);
      expect(next - Date.parse(pending.attempt_log[0].at)).toBe(backoffMs(1));

      // Before the backoff has passed the sweep leaves it alone; after, it delivers.
      await sweepWebhooks(env, () => next - 1000);
      expect(hooks.calls).toHaveLength(1);
      await sweepWebhooks(env, () => next + 1);
      const [done] = await eventsOf(ws, ep.id);
      expect(done).toMatchObject({ status: "delivered", attempts: 2, last_status_code: 200 });
      expect(done.attempt_log.map((a: any) => a.status_code)).toEqual([500, 200]);
      expect(hooks.calls.map((c) => c.headers.get("webhook-id"))).toEqual([done.id, done.id]);
    } finally {
      hooks.restore();
    }
  });

  it("persistent failure: the event is given up and the endpoint disabled with its reason; replay works once re-enabled", async () => {
    const ws = await createWorkspace();
    const ep = await endpoint(ws);
    let healthy = false;
    const hooks = captureWebhooks("https://hooks.test/", () => (healthy ? new Response("ok") : new Response("down", { status: 503 })));
    try {
      await send(ws);
      const [first] = await until(() => eventsOf(ws, ep.id), (e) => e[0]?.attempts === 1);
      // A day later the endpoint has still not answered once.
      await sweepWebhooks(env, () => Date.parse(first.created_at) + 25 * 3_600_000);
      const after = await json(await api(`/v1/webhooks/${ep.id}`, { key: ws.key }));
      expect(after.enabled).toBe(false);
      expect(after.disabled_reason).toMatch(/no successful delivery since .*endpoint answered 503/);
      const events = await eventsOf(ws, ep.id);
      const sent = events.find((e) => e.type === "message.sent");
      expect(sent).toMatchObject({ status: "failed", attempts: 2, last_error: expect.stringMatching(/gave up after 2 attempts/) });
      expect(events.find((e) => e.type === "endpoint.disabled")).toBeDefined();

      // Disabled: replay is refused, new events are not queued for it.
      expect((await api(`/v1/webhook-events/${sent.id}/replay`, { method: "POST", key: ws.key })).status).toBe(409);
      await api(`/v1/webhooks/${ep.id}`, { method: "PATCH", key: ws.key, json: { enabled: true } });
      healthy = true;
      const replay = await api(`/v1/webhook-events/${sent.id}/replay`, { method: "POST", key: ws.key });
      expect(replay.status).toBe(202);
      expect(await json(replay)).toEqual({ id: sent.id, status: "delivered" });
      expect(hooks.calls.at(-1)!.headers.get("webhook-id")).toBe(sent.id);
      expect(independentVerify(ep.secret, hooks.calls.at(-1)!)).toBe(true);
      const enabled = await json(await api(`/v1/webhooks/${ep.id}`, { key: ws.key }));
      expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    } finally {
      hooks.restore();
    }
  });

  it("only subscribed event types are queued", async () => {
    const ws = await createWorkspace();
    const ep = await endpoint(ws, ["message.bounced"]);
    const hooks = captureWebhooks("https://hooks.test/");
    try {
      await send(ws);
      expect(await eventsOf(ws, ep.id)).toHaveLength(0);
      expect(hooks.calls).toHaveLength(0);
    } finally {
      hooks.restore();
    }
  });

  it("the event list pages by cursor and filters by status: an old failed event is found and replayed", async () => {
    const ws = await createWorkspace();
    const ep = await endpoint(ws, ["message.sent"]);
    const db = getDb(env.DB);
    const base = Date.now() - 3_600_000;
    // 120 events, more than one page can hold (100): the oldest one was given up.
    const rows = Array.from({ length: 120 }, (_, i) => ({
      id: newId("wev"),
      workspaceId: ws.id,
      endpointId: ep.id,
      messageId: null,
      type: "message.sent",
      payload: { type: "message.sent", timestamp: new Date(base + i).toISOString(), data: { n: i } },
      status: i === 0 ? ("failed" as const) : ("delivered" as const),
      lastError: i === 0 ? "gave up after 9 attempts: endpoint answered 503" : null,
      nextAttemptAt: null,
      // Two events share each millisecond: the cursor's id tiebreak must not skip or repeat one.
      createdAt: i === 0 ? base - 1 : base + Math.floor(i / 2),
    }));
    await insertEvents(db, rows);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `?limit=7&cursor=${encodeURIComponent(cursor)}` : "?limit=7";
      const res = await api(`/v1/webhooks/${ep.id}/events${qs}`, { key: ws.key });
      expect(res.status, await res.clone().text()).toBe(200);
      const page: { data: { id: string; created_at: string }[]; next_cursor: string | null } = await json(res);
      expect(page.data.length).toBeLessThanOrEqual(7);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(pages).toBe(Math.ceil(120 / 7));
    expect(new Set(seen).size).toBe(120);
    expect(seen.at(-1)).toBe(rows[0]!.id); // newest first, the failed one last

    const failed = await json(await api(`/v1/webhooks/${ep.id}/events?status=failed`, { key: ws.key }));
    expect(failed.data.map((e: { id: string }) => e.id)).toEqual([rows[0]!.id]);
    expect(failed.next_cursor).toBeNull();
    expect((await api(`/v1/webhooks/${ep.id}/events?status=lost`, { key: ws.key })).status).toBe(400);
    expect((await api(`/v1/webhooks/${ep.id}/events?cursor=bm90LWEtY3Vyc29y`, { key: ws.key })).status).toBe(400);

    const hooks = captureWebhooks("https://hooks.test/");
    try {
      const replay = await api(`/v1/webhook-events/${rows[0]!.id}/replay`, { method: "POST", key: ws.key });
      expect(await json(replay)).toEqual({ id: rows[0]!.id, status: "delivered" });
      expect(hooks.calls.at(-1)!.headers.get("webhook-id")).toBe(rows[0]!.id);
      const left = await json(await api(`/v1/webhooks/${ep.id}/events?status=failed`, { key: ws.key }));
      expect(left.data).toHaveLength(0);
    } finally {
      hooks.restore();
    }
  });
});
