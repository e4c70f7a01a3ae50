// D1 batches coalesced across the messages of one queue batch: every `batch()` issued on one
// coalescing view of the binding in the same timer turn goes to D1 as one batch (one round trip,
// one transaction) and each caller gets its own slice of the results. The queue consumer makes
// one view per invocation and carries it in the batch's context (workers/dispatcher/
// batch-context.ts); everything else uses the plain binding.
//
// A combined batch is all or nothing, so when it fails each caller's statements are run again on
// their own: a caller whose own statements fail gets its own error, and the others still commit
// (nothing was committed by the failed combined batch, so nothing runs twice).
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

/**
 * A view of the binding whose `batch()` calls coalesce (see above). Make one per queue
 * invocation: promises must not be settled from another request's context in workerd, so two
 * invocations never share a round trip.
 */
export function coalescingD1(d1: D1Database): D1Database {
  const coalescer = new Coalescer<D1PreparedStatement[], Settled>((_key, lists) => runCombined(d1, lists), {
    maxItems: MAX_CALLERS,
    maxWeight: MAX_STATEMENTS,
    weigh: (statements) => statements.length,
  });
  const batch = async <T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> => {
    if (statements.length === 0 || statements.length > MAX_STATEMENTS) return d1.batch<T>(statements);
    const s = await coalescer.call("", statements);
    if (!s.ok) throw s.error;
    return s.results as D1Result<T>[];
  };
  return {
    prepare: (query: string) => d1.prepare(query),
    batch,
    exec: (query: string) => d1.exec(query),
    withSession: (constraint?: string) => d1.withSession(constraint),
  } as unknown as D1Database;
}
