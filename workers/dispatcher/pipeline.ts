// One delivery job as a list of named steps (after Postal's outgoing message processor), each in
// steps/. A step takes the job's value (delivery.ts) and returns it with what it learned, or a
// Stop; finish() maps every Stop to what the queue does with the job. limit and route only ask
// (their Durable Object and D1 round trips then overlap the body load and the render); hold
// awaits their answers.
import type { BatchContext } from "./batch-context";
import { isStop, type Claimed, type Delivered, type Job, type JobOutcome, type Stop } from "./delivery";
import { finish } from "./finish";
import { afterRecord } from "./steps/after-record";
import { claim, handBack } from "./steps/claim";
import { comply } from "./steps/comply";
import { deliver } from "./steps/deliver";
import { enrich } from "./steps/enrich";
import { hold, limit } from "./steps/limit";
import { load } from "./steps/load";
import { permit } from "./steps/permit";
import { record } from "./steps/record";
import { render } from "./steps/render";
import { route } from "./steps/route";

export async function runDelivery(ctx: BatchContext, job: Job): Promise<JobOutcome> {
  const loaded = await load(ctx, job); //             message, recipients, workspace; the claim in the same round trip
  if (isStop(loaded)) return finish(ctx, loaded);
  const claimed = claim(loaded); //                    what this job holds, or why it waits
  if (isStop(claimed)) return finish(ctx, claimed);
  try {
    const delivered = comply(claimed) ?? (await send(ctx, claimed)); // PHI without a BAA provider fails here
    if (isStop(delivered)) return finish(ctx, delivered);
    const recorded = await record(ctx, delivered); //   one write: recipients, attempts, events, status
    await afterRecord(ctx, recorded, delivered.reports); // logs, webhooks; breaker reports
    return finish(ctx, recorded);
  } catch (e) {
    await handBack(ctx, claimed); // before any provider call, the claim goes back at once
    throw e;
  }
}

async function send(ctx: BatchContext, claimed: Claimed): Promise<Delivered | Stop> {
  const limited = limit(ctx, claimed); //              global and workspace limits, asked
  const routed = route(ctx, limited); //               provider order per group (takeover, pin), asked
  const enriched = await enrich(ctx, routed); //       body, trending question, LLM personalization
  if (isStop(enriched)) return enriched;
  const rendered = await render(ctx, permit(ctx, enriched)); // first permit asked; MIME, or a copy per recipient
  const ready = await hold(ctx, rendered); //          the limits' answer: over one, wait for the window
  if (isStop(ready)) return ready;
  return deliver(ctx, ready); //                       provider calls with failover, per group
}
