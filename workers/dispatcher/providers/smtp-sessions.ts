// SMTP sessions shared by one queue batch's messages (an SmtpSessionPool the batch's context
// carries, workers/dispatcher/batch-context.ts, handed to each send as ProviderContext.sessions). A batch of messages to
// one smarthost then costs a few connections, TLS handshakes and AUTHs instead of one of each per
// message, and never more than the provider's max_connections at once: a smarthost that allows
// a client only a few connections throttles a relay that opens fifty.
//
// A pool lives for one queue invocation on purpose: a socket belongs to the request that opened
// it (workerd refuses I/O on another request's objects), and closing the pool QUITs what is idle.
// Without a pool (provider test, health probe) every send opens and closes its own session.
// Why not generic-pool or similar: those pools are long-lived, with eviction timers, and a socket
// here must not outlive its invocation; what is needed is a per-invocation map of idle sessions
// and a wait list, about 60 lines.
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

export interface Lease {
  /** An idle session to reuse, or undefined: open one, then hand it to done(). */
  reused?: PooledSession;
  /**
   * Ends the lease: `keep` returns the session for the batch's next message (it must be between
   * transactions); otherwise the caller has closed it. Either way the slot is freed.
   */
  done(session: PooledSession | undefined, keep: boolean): Promise<void>;
}

/** One queue invocation's sessions, by key (provider row, settings and credentials). */
export class SmtpSessionPool {
  private readonly slots = new Map<string, Slot>();

  /** Waits for a session slot for `key`: at most `maxOpen` open at once in this pool. */
  async lease(key: string, maxOpen: number): Promise<Lease> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { idle: [], open: 0, waiting: [] }));
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

  /** Closes (QUIT) every idle session; called when the invocation's work is done. */
  async close(): Promise<void> {
    const idle = [...this.slots.values()].flatMap((s) => s.idle.splice(0));
    await Promise.all(idle.map((s) => s.client.quit()));
  }
}
