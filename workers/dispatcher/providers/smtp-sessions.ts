// SMTP sessions shared by one queue batch's messages (withSmtpSessions). A batch of messages to
// one smarthost then costs a few connections, TLS handshakes and AUTHs instead of one of each per
// message, and never more than the provider's max_connections at once: a smarthost that allows
// a client only a few connections throttles a relay that opens fifty.
//
// The scope is one queue invocation on purpose: a socket belongs to the request that opened it
// (workerd refuses I/O on another request's objects), and the scope's end QUITs what is idle.
// Outside a scope (provider test, health probe) every send opens and closes its own session.
// Why not generic-pool or similar: those pools are long-lived, with eviction timers, and a socket
// here must not outlive its invocation; what is needed is a per-invocation map of idle sessions
// and a wait list, about 60 lines.
import { AsyncLocalStorage } from "node:async_hooks";
import type { SmtpClient } from "./smtp-client";

/** A session leaves the pool after this many messages; servers commonly cap messages per connection. */
export const MAX_MESSAGES_PER_SESSION = 100;

export interface PooledSession {
  client: SmtpClient;
  /** Messages handed over on this session so far. */
  sent: number;
}

interface Slot {
  idle: PooledSession[];
  /** Sessions open for this key: idle, or in use by a send. */
  open: number;
  waiting: (() => void)[];
}

const scope = new AsyncLocalStorage<Map<string, Slot>>();

/** Runs `fn` with a session pool; whatever is idle at the end is closed with QUIT. */
export async function withSmtpSessions<T>(fn: () => Promise<T>): Promise<T> {
  const pool = new Map<string, Slot>();
  try {
    return await scope.run(pool, fn);
  } finally {
    const idle = [...pool.values()].flatMap((s) => s.idle.splice(0));
    await Promise.all(idle.map((s) => s.client.quit()));
  }
}

export interface Lease {
  /** An idle session to reuse, or undefined: open one, then hand it to done(). */
  reused?: PooledSession;
  /**
   * Ends the lease: `keep` returns the session for the batch's next message (it must be between
   * transactions); otherwise the caller has closed it. Either way the slot is freed.
   */
  done(session: PooledSession | undefined, keep: boolean): Promise<void>;
}

/**
 * Waits for a session slot for `key` (at most `maxOpen` open at once within the scope). Null
 * outside a scope: the caller opens and closes its own session.
 */
export async function leaseSession(key: string, maxOpen: number): Promise<Lease | null> {
  const pool = scope.getStore();
  if (!pool) return null;
  let slot = pool.get(key);
  if (!slot) pool.set(key, (slot = { idle: [], open: 0, waiting: [] }));
  const s = slot;
  while (s.idle.length === 0 && s.open >= maxOpen) await new Promise<void>((resolve) => s.waiting.push(resolve));
  const reused = s.idle.pop();
  if (!reused) s.open++;
  return {
    ...(reused ? { reused } : {}),
    async done(session, keep) {
      if (keep && session && session.sent < MAX_MESSAGES_PER_SESSION) s.idle.push(session);
      else {
        s.open--;
        if (keep && session) await session.client.quit();
      }
      s.waiting.shift()?.();
    },
  };
}
