// The periodic jobs, one list for both clocks that run them: the cron trigger (workers/index.ts
// `scheduled`, every minute in production) and the Sweeper's alarm (every SWEEP_INTERVAL_SECONDS;
// the only clock under wrangler dev). Each job is named and runs on its own: one that throws is
// logged with its name and the others still run. A job with a minimum interval runs at most that
// often whichever clock asks (the last run is claimed in the Sweeper's storage), except after a
// run that left work behind, when the next sweep runs it again.
import { sweepLapsedClaims, sweepOutbox } from "./outbox";
import { sweepWebhooks } from "./webhooks/deliver";
import { healthCheckIntervalMs, runHealthChecks } from "./health-checks";
import { runRetention } from "./retention";
import { safeErrorMessage } from "../db/errors";
import { log } from "./log";
import type { JobClaims, SweeperJobs } from "../durable-objects/sweeper";

export interface PeriodicJob {
  name: string;
  /** At most this often; every sweep when absent. */
  minIntervalMs?: (env: Env) => number;
  /** Resolves true when it stopped with work left (a bounded batch was full). */
  run(env: Env, now: number): Promise<boolean | void>;
}

/**
 * Body retention purges a bounded batch per workspace per run: hourly is soon enough for a
 * retention counted in days, and a workspace with a backlog has its batch full, so it runs
 * again at the next sweep (as often as every run did before it had an interval).
 */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

export const PERIODIC_JOBS: readonly PeriodicJob[] = [
  { name: "outbox", run: async (env, now) => void (await sweepOutbox(env, now)) },
  { name: "webhooks", run: async (env) => void (await sweepWebhooks(env)) },
  { name: "health", minIntervalMs: healthCheckIntervalMs, run: async (env, now) => void (await runHealthChecks(env, now)) },
  { name: "retention", minIntervalMs: () => RETENTION_INTERVAL_MS, run: async (env, now) => (await runRetention(env, now)).more },
];

export type JobRun = { job: string; status: "ran" | "not_due" | "failed"; more?: boolean };

/** Runs every job (concurrently, each on its own); never throws. */
export async function runPeriodicJobs(env: Env, now: number, claims: JobClaims, jobs: readonly PeriodicJob[] = PERIODIC_JOBS): Promise<JobRun[]> {
  return Promise.all(
    jobs.map(async (job): Promise<JobRun> => {
      try {
        if (job.minIntervalMs && !(await claims.claimRun(job.name, now, job.minIntervalMs(env)))) return { job: job.name, status: "not_due" };
        const more = (await job.run(env, now)) === true;
        if (more && job.minIntervalMs) await claims.forgetRun(job.name);
        return { job: job.name, status: "ran", ...(more ? { more } : {}) };
      } catch (e) {
        log.error("periodic_job_failed", { job: job.name, error: safeErrorMessage(e) });
        return { job: job.name, status: "failed" };
      }
    }),
  );
}

/** What the Sweeper's alarm runs (bound in workers/index.ts). */
export const sweeperJobs: SweeperJobs = {
  runPeriodic: (env, now, claims) => runPeriodicJobs(env, now, claims),
  sweepLapsedClaims: (env, now) => sweepLapsedClaims(env, now),
};
