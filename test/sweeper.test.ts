import { describe, expect, it } from "vitest";
import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../workers/index";
import { getSweeper, type Sweeper } from "../durable-objects/sweeper";

describe("sweeper", () => {
  it("the cron handler arms the Sweeper's alarm, and the alarm re-arms itself", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const stub = getSweeper(env);
    const first = await runInDurableObject(stub, (_i: Sweeper, state) => state.storage.getAlarm());
    expect(first).toBeGreaterThan(Date.now());
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const second = await runInDurableObject(stub, (_i: Sweeper, state) => state.storage.getAlarm());
    expect(second).toBeGreaterThan(Date.now());
  });
});
