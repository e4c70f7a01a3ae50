// Keeps the outbox sweep running where cron triggers do not fire (wrangler dev): an alarm that
// sweeps and re-arms itself. In production the cron trigger also sweeps and re-arms it, so a
// lost alarm is restored within a minute.
//
// Between its regular sweeps the alarm also wakes when the next live recipient claim lapses
// (at most every LAPSE_CHECK_MIN_GAP_MS) and enqueues only lapsed claims: after a kill, a
// recipient whose call was in flight is on the queue again a moment after its claim (its call's
// deadline + margin) ends, not a sweep interval later.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../core/config";
import { runHealthChecksIfDue } from "../workers/health-checks";
import { sweepLapsedClaims, sweepOutbox } from "../workers/outbox";
import { sweepWebhooks } from "../workers/webhooks/deliver";

/** The lapse checks between regular sweeps come at most this often (each is two indexed reads). */
export const LAPSE_CHECK_MIN_GAP_MS = 5_000;
/** Looked this long after a claim's lapse, so it has certainly lapsed. */
const AFTER_LAPSE_MS = 500;

export class Sweeper extends DurableObject<Env> {
  /** Arms the alarm if it is not already set. Idempotent. */
  async arm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + readConfig(this.env).sweepIntervalMs);
    }
  }

  /** Provider health checks run at most once per interval, whether cron or this alarm asks. */
  async claimHealthRun(now: number, intervalMs: number): Promise<boolean> {
    const last = (await this.ctx.storage.get<number>("health_run_at")) ?? 0;
    if (now - last < intervalMs) return false;
    await this.ctx.storage.put("health_run_at", now);
    return true;
  }

  override async alarm(): Promise<void> {
    const interval = readConfig(this.env).sweepIntervalMs;
    let fullAt = (await this.ctx.storage.get<number>("full_sweep_at")) ?? 0;
    let nextLapse: number | null = null;
    try {
      if (Date.now() >= fullAt) {
        fullAt = Date.now() + interval;
        await this.ctx.storage.put("full_sweep_at", fullAt);
        await sweepOutbox(this.env);
        await sweepWebhooks(this.env);
        await runHealthChecksIfDue(this.env, Date.now(), this);
      }
      ({ nextLapse } = await sweepLapsedClaims(this.env, Date.now()));
    } finally {
      const now = Date.now();
      const lapseCheck = nextLapse === null ? Infinity : Math.max(now + LAPSE_CHECK_MIN_GAP_MS, nextLapse + AFTER_LAPSE_MS);
      await this.ctx.storage.setAlarm(Math.max(now + 1, Math.min(fullAt, now + interval, lapseCheck)));
    }
  }
}

export const getSweeper = (env: Env) => env.SWEEPER.getByName("outbox");
