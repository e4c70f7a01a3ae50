// The delivery memory budget (issue 8): a queue batch of up to 50 jobs runs small messages side
// by side and makes large ones wait for room, using the size each job carries.
import { describe, expect, it } from "vitest";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { MemoryBudget } from "../core/memory-budget";
import { deliveryJob, deliveryJobSchema, type DeliveryJob } from "../core/jobs";
import { acceptDirect, capturingQueue } from "./accept-direct";
import { mailgunProvider, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

/** Runs tasks through the budget and reports the most that were ever running at once. */
async function peakConcurrency(budget: MemoryBudget, sizes: (number | undefined)[]) {
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    sizes.map((bytes, i) =>
      budget.run(bytes, async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      }),
    ),
  );
  return { peak, order };
}

describe("MemoryBudget", () => {
  const MB = 1024 * 1024;

  it("small messages all run at once; large ones one at a time, in arrival order", async () => {
    expect((await peakConcurrency(new MemoryBudget(64 * MB), Array(50).fill(10 * 1024))).peak).toBe(50);
    // 6 copies of 8 MB = 48 MB: only one fits in 64 MB at a time.
    const large = await peakConcurrency(new MemoryBudget(64 * MB), [8 * MB, 8 * MB, 8 * MB]);
    expect(large).toEqual({ peak: 1, order: [0, 1, 2] });
    // Two 4 MB messages (24 MB each) fit together, a third does not.
    expect((await peakConcurrency(new MemoryBudget(64 * MB), [4 * MB, 4 * MB, 4 * MB, 4 * MB])).peak).toBe(2);
  });

  it("a message larger than the whole budget runs alone instead of never", async () => {
    const r = await peakConcurrency(new MemoryBudget(8 * MB), [100 * MB, 1024, 100 * MB]);
    expect(r.peak).toBe(1);
    expect(r.order).toEqual([0, 1, 2]);
  });

  it("an unknown size counts as the smallest message, and a failed run gives its room back", async () => {
    const budget = new MemoryBudget(8 * MB);
    expect(budget.weigh(undefined)).toBe(1);
    expect(budget.weigh(0)).toBe(1);
    expect(budget.weigh(Number.NaN)).toBe(1);
    expect(budget.weigh(1024)).toBe(6);
    expect(budget.weigh(100 * MB)).toBe(8 * 1024);
    await expect(budget.run(100 * MB, async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    // The whole budget is free again: a full-size run does not wait forever.
    await expect(budget.run(100 * MB, async () => "ran")).resolves.toBe("ran");
  });
});

describe("delivery jobs carry the message size", { timeout: 30_000 }, () => {
  it("old jobs without a size still parse; a negative or fractional size is refused", () => {
    expect(deliveryJobSchema.safeParse({ v: 1, workspaceId: "ws", messageId: "m" }).success).toBe(true);
    expect(deliveryJobSchema.parse(deliveryJob("ws", "m", 1234))).toEqual({ v: 1, workspaceId: "ws", messageId: "m", bytes: 1234 });
    expect(deliveryJobSchema.safeParse({ v: 1, workspaceId: "ws", messageId: "m", bytes: -1 }).success).toBe(false);
    expect(deliveryJobSchema.safeParse({ v: 1, workspaceId: "ws", messageId: "m", bytes: 1.5 }).success).toBe(false);
  });

  /** Accepts messages with the queue captured (the background consumer never sees them). */
  async function acceptCaptured(ws: Awaited<ReturnType<typeof workspaceWith>>, n: number) {
    const { queue, jobs } = capturingQueue();
    for (let i = 0; i < n; i++) await acceptDirect(ws, { to: [`p${i}@example.net`], text: "x".repeat(100 * (i + 1)) }, { DELIVERY_QUEUE: queue });
    return jobs;
  }

  async function attemptsOf(ids: string[]) {
    const rows = await Promise.all(
      ids.map((id) => env.DB.prepare("select started_at as s, finished_at as f from delivery_attempts where message_id = ?").bind(id).first<{ s: number; f: number }>()),
    );
    return rows.map((r) => r!).sort((a, b) => a.s - b.s);
  }

  it("accept puts the stored size on the job, and the consumer holds large messages back to fit the budget", async () => {
    const domain = `${uniq("mem")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    const jobs = await acceptCaptured(ws, 6);
    expect(jobs).toHaveLength(6);
    for (const j of jobs) {
      const row = await env.DB.prepare("select size_bytes from messages where id = ?").bind(j.messageId).first<{ size_bytes: number }>();
      expect(j.bytes).toBe(row!.size_bytes);
    }
    // Every provider call takes 300 ms, so calls that overlap are plain to see in the attempts.
    await sim().addFault({ target: "mailgun", scope: domain, latencyMs: 300 });
    const run = async (batchJobs: DeliveryJob[]) => {
      const batch = createMessageBatch("relay-delivery", batchJobs.map((body, i) => ({ id: `mem-${i}-${body.messageId}`, timestamp: new Date(), attempts: 1, body })));
      const ctx = createExecutionContext();
      await worker.queue(batch, { ...env, DELIVERY_MEMORY_BUDGET_MB: "8" } as unknown as Env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(batchJobs.length);
    };
    // Real sizes (a few hundred bytes): the three calls overlap.
    await run(jobs.slice(0, 3));
    const small = await attemptsOf(jobs.slice(0, 3).map((j) => j.messageId));
    expect(small.every((a) => a.s < Math.min(...small.map((b) => b.f)))).toBe(true);
    // Said to be 8 MB each (48 MB in memory against an 8 MB budget): one call at a time.
    await run(jobs.slice(3).map((j) => ({ ...j, bytes: 8 * 1024 * 1024 })));
    const large = await attemptsOf(jobs.slice(3).map((j) => j.messageId));
    for (let i = 1; i < large.length; i++) expect(large[i]!.s).toBeGreaterThanOrEqual(large[i - 1]!.f);
    await sim().clearFaults(domain);
  });
});
