// Delivery through the real queue to the Mailgun simulator: retries, permanent failures,
// timeouts and failover, with providers and the retry policy set through the public API.
import { describe, expect, it } from "vitest";
import { waitForStatus } from "./helpers";
import { accept, addProvider, mailgunProvider, recipient, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

const mgDomain = () => `${uniq("mg")}.example.org`;

describe("Mailgun through the queue", { timeout: 30_000 }, () => {
  it("a 503 once, then success: sent after two attempts (transient, then sent)", async () => {
    const domain = mgDomain();
    const ws = await workspaceWith(mailgunProvider(domain));
    await sim().addFault({ target: "mailgun", scope: domain, status: 503, body: "Service Unavailable", times: 1 });

    const acc = await accept(ws);
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    expect(done.attempt_count).toBe(2);
    expect(done.attempts.map((a: any) => a.outcome)).toEqual(["transient", "sent"]);
    expect(done.attempts[0].detail).toMatch(/Mailgun 503/);
    expect(done.attempts.every((a: any) => a.provider_id === ws.providerId)).toBe(true);
    // The retry waited for the policy's delay (1 s), not zero.
    expect(Date.parse(done.attempts[1].started_at) - Date.parse(done.attempts[0].started_at)).toBeGreaterThanOrEqual(900);
    const r = recipient(done, "patient@example.net")!;
    expect(r).toMatchObject({ status: "sent", attempts: 2, provider_id: ws.providerId, provider_message_id: acc.message_id.slice(1, -1) });

    expect((await sim().counts(domain)).mailgun).toBe(2);
    const [got, ...more] = await sim().received("mailgun", domain);
    expect(more).toHaveLength(0);
    expect(got?.parsed?.messageId).toBe(acc.message_id);
    expect(got?.parsed?.subject).toBe("Your appointment");
    expect(got?.to).toEqual(["patient@example.net"]);
    expect(got?.variables["relay-message-id"]).toBe(acc.id);
  });

  it("a 400 for a bad recipient: failed after exactly one attempt, never retried", async () => {
    const domain = mgDomain();
    const ws = await workspaceWith(mailgunProvider(domain));
    await sim().addFault({ target: "mailgun", scope: domain, status: 400, body: { message: "'to' parameter is not a valid address. please check documentation" } });

    const acc = await accept(ws);
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 10_000);
    expect(done.status).toBe("failed");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ outcome: "permanent", provider_id: ws.providerId });
    expect(done.attempts[0].detail).toMatch(/Mailgun 400.*not a valid address/);
    expect(recipient(done, "patient@example.net")).toMatchObject({ status: "failed", last_error: expect.stringMatching(/not a valid address/) });
    // Nothing is scheduled: a second look after the retry delay (1 s) finds no second request.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await sim().counts(domain)).mailgun).toBe(1);
    await sim().clearFaults(domain);
  });

  it("a timeout (simulator slower than timeout_ms) is transient and retried, then sent", async () => {
    const domain = mgDomain();
    const ws = await workspaceWith(mailgunProvider(domain, { timeout_ms: 1000 }));
    // The first request is answered only after 2.5 s (and then with a 503, so the late answer
    // cannot count as a delivery); the provider gives up at 1 s.
    await sim().addFault({ target: "mailgun", scope: domain, latencyMs: 2500, status: 503, times: 1 });

    const acc = await accept(ws);
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    expect(done.attempts.map((a: any) => a.outcome)).toEqual(["transient", "sent"]);
    expect(done.attempts[0].latency_ms).toBeGreaterThanOrEqual(900);
    expect(done.attempts[0].latency_ms).toBeLessThan(2500);
    expect((await sim().received("mailgun", domain)).map((g) => g.parsed?.messageId)).toEqual([acc.message_id]);
  });

  it("fails over: priority 1 always 503, priority 2 healthy → sent via the second, attempts show both", async () => {
    const failing = mgDomain();
    const healthy = mgDomain();
    const ws = await workspaceWith(mailgunProvider(failing, { priority: 1, name: "primary" }));
    const second = await addProvider(ws, mailgunProvider(healthy, { priority: 2, name: "secondary" }));
    await sim().addFault({ target: "mailgun", scope: failing, status: 503 });

    const acc = await accept(ws);
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 10_000);
    expect(done.status).toBe("sent");
    expect(done.attempts.map((a: any) => [a.provider_id, a.outcome])).toEqual([
      [ws.providerId, "transient"],
      [second, "sent"],
    ]);
    // Failover happens within one job: one counted attempt, not a retry.
    expect(done.attempt_count).toBe(1);
    expect(recipient(done, "patient@example.net")).toMatchObject({ status: "sent", provider_id: second });
    expect((await sim().counts(failing)).mailgun).toBe(1);
    expect(await sim().received("mailgun", failing)).toHaveLength(0);
    expect((await sim().received("mailgun", healthy)).map((g) => g.parsed?.messageId)).toEqual([acc.message_id]);
    await sim().clearFaults(failing);
  });

  it("twelve recipients, one call: each recipient is recorded sent with the provider's id and time, the others' rows untouched", async () => {
    const domain = mgDomain();
    const ws = await workspaceWith(mailgunProvider(domain));
    const to = Array.from({ length: 12 }, (_, i) => `p${i}@example.net`);
    const first = await accept(ws, { to });
    const other = await accept(ws, { to: ["bystander@example.net"] });
    const done = await waitForStatus(ws, first.id, ["sent", "failed", "partially_failed"], 15_000);
    expect(done.status).toBe("sent");
    expect(done.recipients).toHaveLength(12);
    for (const r of done.recipients) {
      expect(r).toMatchObject({ status: "sent", attempts: 1, provider_id: ws.providerId, provider_message_id: first.message_id.slice(1, -1), last_error: null });
      expect(Date.parse(r.sent_at)).toBeGreaterThan(0);
    }
    // A grouped update names its recipients: the other message's recipient keeps its own outcome.
    const second = await waitForStatus(ws, other.id, ["sent", "failed"], 15_000);
    expect(second.recipients).toEqual([expect.objectContaining({ email: "bystander@example.net", status: "sent", provider_message_id: other.message_id.slice(1, -1) })]);
    expect((await sim().counts(domain)).mailgun).toBe(2);
  });
});
