// What one queue invocation's deliveries share, passed to every step explicitly: the store
// (db/store: claims and records; on D1 over a Db whose batches coalesce, db/coalescing-d1.ts), Durable Object calls that coalesce (workers/do-calls.ts),
// the SMTP sessions to each smarthost (providers/smtp-sessions.ts), and each workspace's delivery
// facts read once. A batch's jobs run side by side and reach each step together, so their D1
// writes and object calls go as one round trip per step (bench/profile.mjs showed it).
//
// Everything here belongs to one invocation: workerd refuses I/O on another request's objects
// (sockets) and promises must not be settled from another request's context, so nothing is kept
// between invocations.
import { getCoalescingDb } from "../../db/client";
import { readConfig } from "../../core/config";
import { openRelayStore } from "../store";
import type { Store } from "../../db/store/store";
import { parseWorkspaceConfig } from "../../core/workspace-config";
import { coalescedDoCalls, directDoCalls, type DoCalls } from "../do-calls";
import { SmtpSessionPool } from "./providers/smtp-sessions";

export interface BatchContext {
  env: Env;
  /** Claims, records, the outbox: the configured backend (STORE). */
  store: Store;
  now: () => number;
  calls: DoCalls;
  /** Absent outside a queue batch: each SMTP send then opens and closes its own session. */
  smtpSessions?: SmtpSessionPool;
  /** The workspace's settings (parsed), enabled providers and quotas: one read per workspace per batch. */
  workspaceFacts(workspaceId: string): Promise<WorkspaceFacts>;
}

export type WorkspaceFacts = Awaited<ReturnType<typeof loadWorkspaceFacts>>;

async function loadWorkspaceFacts(store: Store, workspaceId: string) {
  const facts = await store.delivery.loadWorkspace(workspaceId);
  return { ...facts, settings: parseWorkspaceConfig(facts.workspaceConfig) };
}

function memoized(store: Store): BatchContext["workspaceFacts"] {
  const facts = new Map<string, Promise<WorkspaceFacts>>();
  return (workspaceId) => {
    let p = facts.get(workspaceId);
    if (!p) facts.set(workspaceId, (p = loadWorkspaceFacts(store, workspaceId)));
    return p;
  };
}

/** Runs `fn` with a queue invocation's shared context; its idle SMTP sessions are closed after. */
export async function withBatch<T>(env: Env, fn: (ctx: BatchContext) => Promise<T>): Promise<T> {
  // On D1 the store runs over a Db whose batches issued in the same turn share a round trip.
  const store = openRelayStore(env, onD1(env) ? { db: getCoalescingDb(env.DB) } : {});
  const smtpSessions = new SmtpSessionPool();
  try {
    return await fn({ env, store, now: Date.now, calls: coalescedDoCalls(env), smtpSessions, workspaceFacts: memoized(store) });
  } finally {
    await Promise.all([smtpSessions.close(), store.close()]);
  }
}

/** One delivery on its own (tests, a one-off run): nothing coalesced or pooled. */
export function soloContext(env: Env, now: () => number = Date.now): BatchContext {
  const store = openRelayStore(env);
  return { env, store, now, calls: directDoCalls(env), workspaceFacts: memoized(store) };
}

const onD1 = (env: Env): boolean => readConfig(env).store === "d1";
