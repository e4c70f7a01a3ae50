// Keeps the outbox sweep running where cron triggers do not fire (wrangler dev): an alarm that
// sweeps and re-arms itself. In production the cron trigger also sweeps and re-arms it, so a
// lost alarm is restored within a minute.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../core/config";
import { runHealthChecksIfDue } from "../workers/health-checks";
import { sweepOutbox } from "../workers/outbox";
import { sweepWebhooks } from "../workers/webhooks/deliver";

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
    try {
      await sweepOutbox(this.env);
      await sweepWebhooks(this.env);
      await runHealthChecksIfDue(this.env, Date.now(), this);
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + readConfig(this.env).sweepIntervalMs);
    }
  }
}

export const getSweeper = (env: Env) => env.SWEEPER.getByName("outbox");
