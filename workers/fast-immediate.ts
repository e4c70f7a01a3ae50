// setImmediate for workerd. There it is a zero-delay timer: every call waits for a timer turn of
// the event loop. nodemailer's MailComposer (core/mime-render.ts) hops through setImmediate
// between the steps of building each MIME node, so under delivery load one small message took
// about 35 ms of wall time to render while the isolate's CPU had work to spare; a queue batch
// spent half its life there (measured with bench/profile.mjs: batch of 10 from 78 to 45 ms, end to end from 90 to 127
// msg/s, with this shim).
//
// The shim runs the callback as a microtask, which is what Node's immediate queue amounts to
// for a chain of immediates queued without I/O in between. Code that polls with setImmediate
// until some I/O completes would spin forever on microtasks, so every YIELD_EVERY-th call still
// goes through the real setImmediate and lets I/O in. Installed once, from workers/index.ts.
// (Most messages are now rendered without streams, core/mime-render.ts serializeMime; the shim
// still serves those that are not: over 1 MiB, or parts only the streaming build handles.)
const YIELD_EVERY = 32;

interface FastImmediate {
  cancelled: boolean;
  ref(): FastImmediate;
  unref(): FastImmediate;
  hasRef(): boolean;
  [Symbol.dispose](): void;
}

type Globals = {
  setImmediate: (fn: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
  clearImmediate: (handle: unknown) => void;
  __relayFastImmediate?: true;
};

export function installFastImmediate(): void {
  const g = globalThis as unknown as Globals;
  if (g.__relayFastImmediate || typeof g.setImmediate !== "function") return;
  g.__relayFastImmediate = true;
  const realSet = g.setImmediate.bind(globalThis);
  const realClear = g.clearImmediate.bind(globalThis);
  const fast = new WeakSet<object>();
  let calls = 0;
  g.setImmediate = (fn, ...args) => {
    if (++calls % YIELD_EVERY === 0) return realSet(fn, ...args);
    const handle: FastImmediate = {
      cancelled: false,
      ref: () => handle,
      unref: () => handle,
      hasRef: () => true,
      [Symbol.dispose]: () => void (handle.cancelled = true),
    };
    fast.add(handle);
    queueMicrotask(() => {
      if (!handle.cancelled) fn(...args);
    });
    return handle;
  };
  g.clearImmediate = (handle) => {
    if (typeof handle === "object" && handle !== null && fast.has(handle)) (handle as FastImmediate).cancelled = true;
    else realClear(handle);
  };
}
