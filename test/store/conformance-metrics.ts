// Conformance: the metrics group (metrics.snapshot, openBreakers, ping). Its reads are
// cross-tenant: the database holds other tests' rows too, so a test seeds two workspaces of its
// own and compares the snapshot's figures for those two (each on its own: a workspace's rows never
// count in the other's), and places its one-value answers where nobody else's are.
import { describe, expect, it } from "vitest";
import type { MetricsSnapshot } from "../../db/store/metrics";
import type { Backend } from "./conformance-support";
import { attempt, open, type BackendFactory } from "./conformance-support";

const byKey = <T>(rows: T[]): T[] => [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

/** The snapshot's rows of these workspaces only, each list in a fixed order. */
function mine(s: MetricsSnapshot, workspaces: string[]) {
  const of = <T extends { workspace: string }>(rows: T[]) => byKey(rows.filter((r) => workspaces.includes(r.workspace)));
  return {
    accepted: of(s.accepted),
    recipients: of(s.recipients),
    attempts: of(s.attempts),
    latency: of(s.latency),
    breakers: of(s.breakers),
    purged: of(s.purged),
    limited: of(s.limited),
    bounces: of(s.bounces),
    senderSide: of(s.senderSide),
  };
}

async function breaker(b: Backend, workspaceId: string, providerId: string, state: "open" | "closed" | "half_open"): Promise<void> {
  await b.exec.run("INSERT INTO circuit_breakers (provider_id, workspace_id, state, failure_count, success_count, state_changed_at) VALUES (?, ?, ?, 0, 0, ?)", [
    providerId,
    workspaceId,
    state,
    Date.now(),
  ]);
}

/** A recipient as the record step leaves it: the provider that took it, and its last bounce. */
async function recipient(b: Backend, id: string, providerId: string | null, bounce?: Record<string, unknown>): Promise<void> {
  await b.exec.run("UPDATE message_recipients SET provider_id = ?, bounce = ? WHERE id = ?", [providerId, bounce ? JSON.stringify(bounce) : null, id]);
}

export function metricsConformance(backend: BackendFactory): void {
  describe("metrics.snapshot", () => {
    it("counts each workspace's messages, recipients, attempts, latency, breakers, purges, limit holds and bounces on its own", async () => {
      const b = await open(backend);
      const { store, seed } = b;
      const A = await seed.workspace();
      const B = await seed.workspace();
      const pA = await seed.provider(A, { type: "sandbox" });
      const pOpen = await seed.provider(A, { type: "mailgun" });
      const pNever = await seed.provider(A, { type: "smtp" });
      const pB = await seed.provider(B, { type: "sandbox" });
      await breaker(b, A, pOpen, "open");
      await breaker(b, A, pA, "half_open");
      await breaker(b, B, pB, "closed");

      const now = Date.now();
      // A: a sent message with a sent and a failed recipient, a queued one, a purged one.
      const sent = await seed.message(A, { status: "partially_failed", recipients: [{ status: "sent" }, { status: "failed" }, { status: "failed" }, { status: "bounced" }] });
      const queued = await seed.message(A, { recipients: 1 });
      const purged = await seed.message(A, { status: "sent", recipients: [{ status: "sent" }] });
      await b.exec.run("UPDATE messages SET body_purged_at = ? WHERE id = ?", [now, purged.id]);
      await b.exec.run("UPDATE messages SET from_email = ? WHERE id = ?", ["Billing@Clinic-Mail.Example", sent.id]);
      const [r0, r1, r2, r3] = sent.recipientIds;
      await recipient(b, r0!, pA);
      await recipient(b, r1!, pA, { reason: "blocked", cause: "sender", type: "hard" });
      await recipient(b, r2!, pA, { reason: "userunknown", cause: "mailbox", type: "hard" });
      await recipient(b, r3!, pA, { reason: "userunknown", cause: "mailbox", type: "hard" });
      await recipient(b, purged.recipientIds[0]!, pOpen);
      // B: one deferred recipient with a sender-side bounce from another domain, no provider.
      const other = await seed.message(B, { status: "deferred", recipients: [{ status: "deferred" }] });
      await recipient(b, other.recipientIds[0]!, null, { reason: "spamdetected", cause: "sender", type: "soft" });

      const at = now - 1000;
      const a = (ws: string, m: string, extra: Parameters<typeof attempt>[3]) => store.delivery.insertAttempt(attempt(ws, m, at, extra));
      await a(A, sent.id, { providerId: pA, outcome: "sent", latencyMs: 40 });
      await a(A, sent.id, { providerId: pA, outcome: "sent", latencyMs: 100 });
      await a(A, sent.id, { providerId: pA, outcome: "transient", latencyMs: 300 });
      await a(A, sent.id, { providerId: pA, outcome: "permanent", latencyMs: 20_000 });
      await a(A, sent.id, { providerId: pOpen, outcome: "sent", latencyMs: 2500 });
      // Not timed (latency null), or not a provider's (provider null): no latency sample.
      await a(A, sent.id, { providerId: pA, outcome: "skipped", latencyMs: null });
      // The limit step's holds: deferred, provider-less, the layer named in the detail.
      await a(A, queued.id, { providerId: null, outcome: "deferred", latencyMs: null, detail: "the relay's per-second limit is reached" });
      await a(A, queued.id, { providerId: null, outcome: "deferred", latencyMs: null, detail: "The workspace's daily limit is reached" });
      await a(A, queued.id, { providerId: null, outcome: "deferred", latencyMs: null, detail: "the workspace's hourly limit is reached" });
      await a(A, queued.id, { providerId: null, outcome: "deferred", latencyMs: null, detail: "provider quota used up" });
      // A deferral that is not a hold, and a hold's words on another outcome: neither is counted.
      await a(A, queued.id, { providerId: pA, outcome: "deferred", latencyMs: 80, detail: "421 try again later" });
      await a(A, queued.id, { providerId: pA, outcome: "transient", latencyMs: 90, detail: "the relay's limit is reached" });
      await a(B, other.id, { providerId: pB, outcome: "transient", latencyMs: 5000 });
      await a(B, other.id, { providerId: pB, outcome: "deferred", latencyMs: null, detail: "provider quota used up" });

      const got = mine(await store.metrics.snapshot(), [A, B]);
      expect(got.accepted).toEqual(byKey([{ workspace: A, n: 3 }, { workspace: B, n: 1 }]));
      expect(got.recipients).toEqual(
        byKey([
          { workspace: A, provider: pA, status: "sent", n: 1 },
          { workspace: A, provider: pA, status: "failed", n: 2 },
          { workspace: A, provider: pA, status: "bounced", n: 1 },
          { workspace: A, provider: "", status: "queued", n: 1 },
          { workspace: A, provider: pOpen, status: "sent", n: 1 },
          { workspace: B, provider: "", status: "deferred", n: 1 },
        ]),
      );
      expect(got.attempts).toEqual(
        byKey([
          { workspace: A, provider: pA, outcome: "sent", n: 2 },
          { workspace: A, provider: pA, outcome: "transient", n: 2 },
          { workspace: A, provider: pA, outcome: "permanent", n: 1 },
          { workspace: A, provider: pA, outcome: "skipped", n: 1 },
          { workspace: A, provider: pA, outcome: "deferred", n: 1 },
          { workspace: A, provider: pOpen, outcome: "sent", n: 1 },
          { workspace: A, provider: "", outcome: "deferred", n: 4 },
          { workspace: B, provider: pB, outcome: "transient", n: 1 },
          { workspace: B, provider: pB, outcome: "deferred", n: 1 },
        ]),
      );
      // Buckets at 50, 100, 250, 500, 1000, 2500, 5000, 10000 ms (cumulative: "at most").
      expect(got.latency).toEqual(
        byKey([
          { workspace: A, provider: pA, count: 6, sumMs: 40 + 100 + 300 + 20_000 + 80 + 90, buckets: [1, 4, 4, 5, 5, 5, 5, 5] },
          { workspace: A, provider: pOpen, count: 1, sumMs: 2500, buckets: [0, 0, 0, 0, 0, 1, 1, 1] },
          { workspace: B, provider: pB, count: 1, sumMs: 5000, buckets: [0, 0, 0, 0, 0, 0, 1, 1] },
        ]),
      );
      expect(got.breakers).toEqual(
        byKey([
          { workspace: A, provider: pA, state: "half_open" },
          { workspace: A, provider: pOpen, state: "open" },
          { workspace: A, provider: pNever, state: "closed" },
          { workspace: B, provider: pB, state: "closed" },
        ]),
      );
      expect(got.purged).toEqual([{ workspace: A, n: 1 }]);
      expect(got.limited).toEqual(
        byKey([
          { workspace: A, layer: "global", n: 1 },
          { workspace: A, layer: "workspace", n: 2 },
          { workspace: A, layer: "provider_quota", n: 1 },
          { workspace: B, layer: "provider_quota", n: 1 },
        ]),
      );
      expect(got.bounces).toEqual(
        byKey([
          { workspace: A, provider: pA, reason: "blocked", cause: "sender", type: "hard", n: 1 },
          { workspace: A, provider: pA, reason: "userunknown", cause: "mailbox", type: "hard", n: 2 },
          { workspace: B, provider: "", reason: "spamdetected", cause: "sender", type: "soft", n: 1 },
        ]),
      );
      // The sending domain is the from address's, lowered.
      expect(got.senderSide).toEqual(
        byKey([
          { workspace: A, provider: pA, domain: "clinic-mail.example", reason: "blocked", n: 1 },
          { workspace: B, provider: "", domain: "clinic.example", reason: "spamdetected", n: 1 },
        ]),
      );
    });

    it("a bounce without a reason, cause or type is counted under null ones, and not as sender-side", async () => {
      const b = await open(backend);
      const ws = await b.seed.workspace();
      const m = await b.seed.message(ws, { status: "failed", recipients: [{ status: "bounced" }, { status: "bounced" }] });
      await recipient(b, m.recipientIds[0]!, null, {});
      await recipient(b, m.recipientIds[1]!, null, { reason: null, cause: null, type: "hard" });
      const got = mine(await b.store.metrics.snapshot(), [ws]);
      expect(got.bounces).toEqual(byKey([{ workspace: ws, provider: "", reason: null, cause: null, type: null, n: 1 }, { workspace: ws, provider: "", reason: null, cause: null, type: "hard", n: 1 }]));
      expect(got.senderSide).toEqual([]);
    });

    it("oldestQueuedAt: when the oldest message still queued was accepted; a message no longer queued does not count", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      // Older than any other test's message: ours is the oldest in the database.
      const oldest = -Date.now() * 1000;
      await seed.message(ws, { status: "sent", recipients: [{ status: "sent" }], queuedAt: oldest - 5 });
      await seed.message(ws, { status: "deferred", recipients: [{ status: "deferred" }], queuedAt: oldest - 4 });
      await seed.message(ws, { recipients: 1, queuedAt: oldest });
      await seed.message(ws, { recipients: 1, queuedAt: oldest + 1 });
      expect((await store.metrics.snapshot()).oldestQueuedAt).toBe(oldest);
    });

    it("a workspace with no rows has no samples", async () => {
      const { store, seed } = await open(backend);
      const ws = await seed.workspace();
      expect(mine(await store.metrics.snapshot(), [ws])).toEqual({ accepted: [], recipients: [], attempts: [], latency: [], breakers: [], purged: [], limited: [], bounces: [], senderSide: [] });
    });
  });

  describe("metrics.openBreakers, metrics.ping", () => {
    it("openBreakers counts the open breakers of every workspace, never a closed or half-open one", async () => {
      const b = await open(backend);
      const before = await b.store.metrics.openBreakers();
      const A = await b.seed.workspace();
      const B = await b.seed.workspace();
      await breaker(b, A, await b.seed.provider(A, { type: "sandbox" }), "open");
      await breaker(b, B, await b.seed.provider(B, { type: "sandbox" }), "open");
      await breaker(b, B, await b.seed.provider(B, { type: "mailgun" }), "half_open");
      await breaker(b, B, await b.seed.provider(B, { type: "smtp" }), "closed");
      expect(await b.store.metrics.openBreakers()).toBe(before + 2);
    });

    it("ping resolves while the database answers", async () => {
      const { store } = await open(backend);
      await expect(store.metrics.ping()).resolves.toBeUndefined();
    });
  });
}
