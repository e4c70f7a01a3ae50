// Keeps the outbox sweep running where cron triggers do not fire (wrangler dev): an alarm that
// sweeps and re-arms itself. In production the cron trigger also sweeps and re-arms it, so a
// lost alarm is restored within a minute.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../core/config";
import { sweepOutbox } from "../workers/outbox";

export class Sweeper extends DurableObject<Env> {
  /** Arms the alarm if it is not already set. Idempotent. */
  async arm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + readConfig(this.env).sweepIntervalMs);
    }
  }

  override async alarm(): Promise<void> {
    try {
      await sweepOutbox(this.env);
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + readConfig(this.env).sweepIntervalMs);
    }
  }
}

export const getSweeper = (env: Env) => env.SWEEPER.getByName("outbox");
