// What the conformance suite's files share: the backend a test opens, and small builders.
import { onTestFinished } from "vitest";
import { newId } from "../../core/ids";
import type { ClaimLease, NewAttempt, Store } from "../../db/store/store";
import type { Seeder } from "./seeder";
import type { SqlExec } from "./sql-seeder";

export interface Backend {
  store: Store;
  seed: Seeder;
  /**
   * Plain SQL on the same database (SQL both SQLite and MySQL run as written: unquoted names, `?`
   * parameters), for what a group's cases write or read behind the store's back.
   */
  exec: SqlExec;
  cleanup?: () => Promise<void>;
}

/**
 * Opens a store and a seeder on the backend under test. Called once per test, and once more per
 * concurrent caller in the concurrency cases: on MySQL each call is a connection of its own, as
 * each queue invocation would have.
 */
export type BackendFactory = () => Promise<Backend>;

export async function open(backend: BackendFactory): Promise<Backend> {
  const b = await backend();
  onTestFinished(async () => {
    await b.cleanup?.();
  });
  return b;
}

/** `n` stores at once, each its own backend (connection), all open before a race starts. */
export const openMany = (backend: BackendFactory, n: number): Promise<Store[]> => Promise.all(Array.from({ length: n }, () => open(backend).then((b) => b.store)));

/** Distinct values, so a store that used the core's defaults instead of the lease's is caught. */
export const LEASE: ClaimLease = { defaultDeadlineMs: (type) => (type === "gmail" ? 61_000 : 31_000), marginMs: 4_000 };

export const sorted = <T>(xs: Iterable<T>): T[] => [...xs].sort();

/** A delivery attempt row of the message. */
export function attempt(workspaceId: string, messageId: string, at: number, extra: Partial<NewAttempt> = {}): NewAttempt {
  return {
    id: newId("da"),
    messageId,
    workspaceId,
    deliveryId: "dlv_conformance",
    providerId: "prv_conformance",
    recipients: ["r@example.net"],
    outcome: "sent",
    detail: null,
    providerMessageId: "pm-1",
    latencyMs: 12,
    startedAt: at - 12,
    finishedAt: at,
    ...extra,
  };
}
