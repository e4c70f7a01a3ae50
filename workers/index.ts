// The one Worker: fetch (API), email (Email Routing), queue (dispatcher), scheduled (sweeps),
// and the Durable Object classes: a shell from durable-objects/ given the Worker-side work it
// asks for (ProviderState's effects), so durable-objects/provider-state.ts imports no workers/.
import { app } from "./api/app";
import { handleQueue } from "./dispatcher/consumer";
import { handleEmail } from "./email-ingest/handler";
import { runHealthChecksIfDue } from "./health-checks";
import { sweepOutbox } from "./outbox";
import { sweepWebhooks } from "./webhooks/deliver";
import { runRetention } from "./retention";
import { getSweeper } from "../durable-objects/sweeper";
import { ProviderState as ProviderStateShell } from "../durable-objects/provider-state";
import { providerEffects } from "./provider-effects";
import { installFastImmediate } from "./fast-immediate";

// workerd's setImmediate waits a timer turn per call; MIME rendering makes many (see the file).
installFastImmediate();

export class ProviderState extends ProviderStateShell {
  protected readonly effects = providerEffects;
}
export { WorkspaceLimiter } from "../durable-objects/workspace-limiter";
export { GlobalLimiter } from "../durable-objects/global-limiter";
export { Sweeper } from "../durable-objects/sweeper";

export default {
  fetch: app.fetch,
  email: handleEmail,
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    const sweeper = getSweeper(env);
    ctx.waitUntil(sweeper.arm());
    ctx.waitUntil(runHealthChecksIfDue(env, Date.now(), { claimHealthRun: (now, intervalMs) => sweeper.claimHealthRun(now, intervalMs) }));
    ctx.waitUntil(runRetention(env));
    ctx.waitUntil(sweepWebhooks(env));
    await sweepOutbox(env);
  },
} satisfies ExportedHandler<Env>;
