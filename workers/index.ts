// The one Worker: fetch (API), email (Email Routing), queue (dispatcher), scheduled (periodic
// jobs), and the Durable Object classes: each shell from durable-objects/ given the Worker-side
// work it asks for (so durable-objects/ imports only core and db).
import { app } from "./api/app";
import { handleQueue } from "./dispatcher/consumer";
import { handleEmail } from "./email-ingest/handler";
import { runPeriodicJobs, sweeperJobs } from "./periodic-jobs";
import { providerEffects } from "./provider-effects";
import { ProviderState as ProviderStateShell } from "../durable-objects/provider-state";
import { getSweeper, Sweeper as SweeperShell } from "../durable-objects/sweeper";
import { installFastImmediate } from "./fast-immediate";

// workerd's setImmediate waits a timer turn per call; MIME rendering makes many (see the file).
installFastImmediate();

export class ProviderState extends ProviderStateShell {
  protected readonly effects = providerEffects;
}
export class Sweeper extends SweeperShell {
  protected readonly jobs = sweeperJobs;
}
export { WorkspaceLimiter } from "../durable-objects/workspace-limiter";
export { GlobalLimiter } from "../durable-objects/global-limiter";

export default {
  fetch: app.fetch,
  email: handleEmail,
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    const sweeper = getSweeper(env);
    ctx.waitUntil(sweeper.arm());
    await runPeriodicJobs(env, Date.now(), { claimRun: (job, now, intervalMs) => sweeper.claimRun(job, now, intervalMs), forgetRun: (job) => sweeper.forgetRun(job) });
  },
} satisfies ExportedHandler<Env>;
