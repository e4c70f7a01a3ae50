// D1 batches coalesced across the messages of one queue batch: inside withD1Coalescing(), every
// `batch()` issued on a coalescing binding in the same timer turn goes to D1 as one batch (one
// round trip, one transaction) and each caller gets its own slice of the results. Outside it the
// binding passes straight through, so the API, the Durable Objects and tests see plain D1.
//
// A combined batch is all or nothing, so when it fails each caller's statements are run again on
// their own: a caller whose own statements fail gets its own error, and the others still commit
// (nothing was committed by the failed combined batch, so nothing runs twice).
import { AsyncLocalStorage } from "node:async_hooks";
import { Coalescer } from "../core/coalesce";

type Settled = { ok: true; results: D1Result[] } | { ok: false; error: unknown };

/**
 * Callers per combined batch. A queue batch is at most 50 jobs (wrangler.toml), each sending a
 * handful of statements, so a step takes a few round trips that run side by side; combining all
 * 50 measured no better here and would make a failed combined batch re-run 50 callers.
 */
const MAX_CALLERS = 16;
/**
 * Statements per combined batch at most: a message to hundreds of recipients records one
 * statement each, and one very large batch would hold D1's single writer for long. A caller
 * with more than this goes on its own.
 */
const MAX_STATEMENTS = 200;

const scope = new AsyncLocalStorage<Coalescer<D1PreparedStatement[], Settled>>();
const wrappers = new WeakMap<D1Database, D1Database>();

/** Runs `fn` with its D1 batches coalesced (see above). */
export function withD1Coalescing<T>(d1: D1Database, fn: () => Promise<T>): Promise<T> {
  const coalescer = new Coalescer<D1PreparedStatement[], Settled>((_key, lists) => runCombined(d1, lists), {
    maxItems: MAX_CALLERS,
    maxWeight: MAX_STATEMENTS,
    weigh: (statements) => statements.length,
  });
  return scope.run(coalescer, fn);
}

async function runCombined(d1: D1Database, lists: D1PreparedStatement[][]): Promise<Settled[]> {
  if (lists.length === 1) return [await settle(d1.batch(lists[0]!))];
  try {
    const all = await d1.batch(lists.flat());
    let at = 0;
    return lists.map((l) => ({ ok: true, results: all.slice(at, (at += l.length)) }));
  } catch {
    return Promise.all(lists.map((l) => settle(d1.batch(l))));
  }
}

const settle = (p: Promise<D1Result[]>): Promise<Settled> =>
  p.then(
    (results) => ({ ok: true, results }),
    (error: unknown) => ({ ok: false, error }),
  );

/** The binding with coalescing `batch()`; one wrapper per binding, so callers can cache on it. */
export function coalescingD1(d1: D1Database): D1Database {
  let w = wrappers.get(d1);
  if (!w) {
    const batch = async <T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> => {
      const coalescer = scope.getStore();
      if (!coalescer || statements.length === 0 || statements.length > MAX_STATEMENTS) return d1.batch<T>(statements);
      const s = await coalescer.call("", statements);
      if (!s.ok) throw s.error;
      return s.results as D1Result<T>[];
    };
    w = {
      prepare: (query: string) => d1.prepare(query),
      batch,
      exec: (query: string) => d1.exec(query),
      withSession: (constraint?: string) => d1.withSession(constraint),
    } as unknown as D1Database;
    wrappers.set(d1, w);
  }
  return w;
}
