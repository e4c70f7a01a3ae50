// Keeps the periodic jobs running where cron triggers do not fire (wrangler dev): an alarm that
// runs them and re-arms itself. In production the cron trigger also runs them and re-arms it, so
// a lost alarm is restored within a minute. The jobs themselves are one list, shared with the
// cron handler (workers/periodic-jobs.ts), which workers/index.ts binds to the class it exports;
// this file keeps the clock: when the alarm fires, and when each job last ran (claimRun), so a
// job with its own interval runs once per interval whichever clock asks.
//
// Between its regular runs the alarm also wakes when the next live recipient claim lapses
// (at most every LAPSE_CHECK_MIN_GAP_MS) and enqueues only lapsed claims: after a kill, a
// recipient whose call was in flight is on the queue again a moment after its claim (its call's
// deadline + margin) ends, not a sweep interval later.
import { DurableObject } from "cloudflare:workers";
import { z } from "@hono/zod-openapi";
import { readConfig } from "../core/config";
import { parseDoInput } from "../core/do-input";

/** The lapse checks between regular sweeps come at most this often (each is two indexed reads). */
export const LAPSE_CHECK_MIN_GAP_MS = 5_000;
/** Looked this long after a claim's lapse, so it has certainly lapsed. */
const AFTER_LAPSE_MS = 500;

/** When each job last ran, kept here for cron and alarm alike (workers/periodic-jobs.ts). */
export interface JobClaims {
  /** True (and noted) if `job` last ran at least `intervalMs` before `now`. */
  claimRun(job: string, now: number, intervalMs: number): Promise<boolean>;
  /** The job left work behind: the next sweep may run it at once. */
  forgetRun(job: string): Promise<void>;
}

/** What the alarm runs (workers/periodic-jobs.ts). */
export interface SweeperJobs {
  /** Every periodic job, each on its own; never throws. */
  runPeriodic(env: Env, now: number, claims: JobClaims): Promise<unknown>;
  /** Enqueues the recipients whose claim lapsed; when the next live claim lapses. */
  sweepLapsedClaims(env: Env, now: number): Promise<{ nextLapse: number | null }>;
}

const jobName = z.string().regex(/^[a-z][a-z_]{0,40}$/, "a job name such as retention");
const instant = z.number().nonnegative();
const claimArgs = z.object({ job: jobName, now: instant, intervalMs: z.number().nonnegative() });
const forgetArgs = z.object({ job: jobName });

/** Where a job's last run time is stored ("health_run_at" predates the list and is kept). */
const runKey = (job: string) => `${job}_run_at`;

export abstract class Sweeper extends DurableObject<Env> {
  protected abstract readonly jobs: SweeperJobs;

  /** Arms the alarm if it is not already set. Idempotent. */
  async arm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + readConfig(this.env).sweepIntervalMs);
    }
  }

  async claimRun(job: string, now: number, intervalMs: number): Promise<boolean> {
    const c = parseDoInput(claimArgs, { job, now, intervalMs }, "Sweeper.claimRun");
    const last = (await this.ctx.storage.get<number>(runKey(c.job))) ?? 0;
    if (c.now - last < c.intervalMs) return false;
    await this.ctx.storage.put(runKey(c.job), c.now);
    return true;
  }

  async forgetRun(job: string): Promise<void> {
    const c = parseDoInput(forgetArgs, { job }, "Sweeper.forgetRun");
    await this.ctx.storage.delete(runKey(c.job));
  }

  /** Provider health checks run at most once per interval, whether cron or this alarm asks. */
  claimHealthRun(now: number, intervalMs: number): Promise<boolean> {
    return this.claimRun("health", now, intervalMs);
  }

  override async alarm(): Promise<void> {
    const interval = readConfig(this.env).sweepIntervalMs;
    let fullAt = (await this.ctx.storage.get<number>("full_sweep_at")) ?? 0;
    let nextLapse: number | null = null;
    try {
      if (Date.now() >= fullAt) {
        fullAt = Date.now() + interval;
        await this.ctx.storage.put("full_sweep_at", fullAt);
        await this.jobs.runPeriodic(this.env, Date.now(), this);
      }
      ({ nextLapse } = await this.jobs.sweepLapsedClaims(this.env, Date.now()));
    } finally {
      const now = Date.now();
      const lapseCheck = nextLapse === null ? Infinity : Math.max(now + LAPSE_CHECK_MIN_GAP_MS, nextLapse + AFTER_LAPSE_MS);
      await this.ctx.storage.setAlarm(Math.max(now + 1, Math.min(fullAt, now + interval, lapseCheck)));
    }
  }
}

export const getSweeper = (env: Env) => env.SWEEPER.getByName("outbox");
