// Where the time goes: a V8 CPU profile of one Worker isolate over the inspector protocol
// (Miniflare's inspectorPort). Busy time is every sample that is not (idle). V8 samples by wall
// clock, so on a loaded machine busy time overstates CPU: use the shares, not the milliseconds.

/** A session with one Worker isolate's inspector target: send(method, params) → result. */
async function connect(inspectorPort, targetName) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.id === targetName || t.title?.includes(targetName));
  if (!target) throw new Error(`no inspector target ${targetName} (have ${targets.map((t) => t.id).join(", ")})`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let seq = 0;
  const waiting = new Map();
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.id && waiting.has(m.id)) {
      waiting.get(m.id)(m);
      waiting.delete(m.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

export async function profileIsolate(inspectorPort, targetName, fn, { intervalUs = 1000, top = 15 } = {}) {
  const s = await connect(inspectorPort, targetName);
  await s.send("Profiler.enable");
  await s.send("Profiler.setSamplingInterval", { interval: intervalUs });
  await s.send("Profiler.start");
  let value;
  try {
    value = await fn();
  } finally {
    var stopped = await s.send("Profiler.stop");
    s.close();
  }
  return { value, ...analyse(stopped.profile, top) };
}

/**
 * The isolate's V8 heap while `fn` runs, polled every `everyMs` (Runtime.getHeapUsage): the
 * figure the Workers memory limit (128 MB per isolate) applies to, which the process RSS is not.
 */
export async function watchHeap(inspectorPort, targetName, fn, { everyMs = 100 } = {}) {
  const s = await connect(inspectorPort, targetName);
  let peakUsed = 0;
  let peakTotal = 0;
  let samples = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      const h = await s.send("Runtime.getHeapUsage");
      peakUsed = Math.max(peakUsed, h.usedSize);
      peakTotal = Math.max(peakTotal, h.totalSize);
      samples++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  let value;
  try {
    value = await fn();
  } finally {
    running = false;
    await poll.catch(() => {});
    s.close();
  }
  const mib = (b) => Math.round((b / 1048576) * 10) / 10;
  return { value, peak_used_mib: mib(peakUsed), peak_total_mib: mib(peakTotal), samples };
}

function analyse(p, top) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const perNode = new Map();
  p.samples.forEach((s, i) => perNode.set(s, (perNode.get(s) ?? 0) + p.timeDeltas[i]));
  let busy = 0;
  const self = new Map();
  const inclusive = new Map();
  const label = (n) => {
    const file = n.callFrame.url.split("/").pop() || "";
    return `${n.callFrame.functionName || "(anonymous)"}${file ? ` ${file}:${n.callFrame.lineNumber + 1}` : ""}`;
  };
  for (const [id, us] of perNode) {
    const n = byId.get(id);
    if (n.callFrame.functionName === "(idle)") continue;
    busy += us;
    self.set(label(n), (self.get(label(n)) ?? 0) + us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur).callFrame.functionName;
      if (!name || name === "(root)" || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, ms: Math.round(us / 100) / 10, pct: Math.round((1000 * us) / busy) / 10 }));
  return { busy_ms: busy / 1000, top_self: rank(self), top_inclusive: rank(inclusive) };
}
