// Phase B: queue consumers on. End to end beside the minimal consumer, each isolate's profile, the
// same path through the SMTP smarthost provider, scaling over workspaces and recipients, and cost.
import path from "node:path";
import { peakRssMiB, workerdPids } from "./proc.mjs";
import { freePort } from "./procs.mjs";
import { seedWorkspaces, startRelay } from "./relay.mjs";
import { ratio, summarize } from "./stats.mjs";
import { profileIsolate, watchHeap } from "./inspect.mjs";
import { ISOLATE, endToEnd } from "./end-to-end.mjs";

/** Fills results.end_to_end, profiles.e2e_*, scaling, cost and worker_logs.phase_b (after phase A). */
export async function phaseB(ctx) {
  const { root, tmp, outdir, settings, results, log, elapsed, simInfo, simReset, opened, dispose } = ctx;
  const { runs: RUNS, e2e_n: E2E_N, scale_n: SCALE_N } = settings;
  const opts = { simReset, connections: settings.connections };
  log(`bench: phase B (end to end, cost, scaling) [${elapsed()}]`);
  const inspectorB = await freePort();
  const relayB = await startRelay({ root, outdir, stateDir: path.join(tmp, "state-b"), consumers: true, simInfo, inspectorPort: inspectorB });
  opened(relayB);
  const wsB = await seedWorkspaces(relayB, simInfo, 100);
  const pidsB = workerdPids();
  const e2eRaw = { minimal: [], relay: [] };
  // warm-up both paths
  await endToEnd(relayB, pidsB, "minimal", [wsB[0]], 1, 100, opts);
  await endToEnd(relayB, pidsB, "relay", [wsB[0]], 1, 100, opts);
  for (let round = 0; round < RUNS; round++) {
    for (const kind of ["minimal", "relay"]) {
      const h = await watchHeap(inspectorB, ISOLATE[kind], () => endToEnd(relayB, pidsB, kind, [wsB[0]], 1, E2E_N, opts));
      const r = { ...h.value, heap_peak_used_mib: h.peak_used_mib };
      e2eRaw[kind].push(r);
      log(`  e2e ${kind.padEnd(8)} round ${round + 1}: ${r.msgs_per_s.toFixed(0)} msg/s, accept→sent p50 ${r.p50_ms.toFixed(0)} ms p99 ${r.p99_ms.toFixed(0)} ms, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg (accept ${r.accept_cpu_ms_per_msg.toFixed(2)}, delivery ${r.delivery_cpu_ms_per_msg.toFixed(2)} over a tail of ${r.tail_msgs}), ${r.sent}/${r.n} sent`);
    }
  }
  const esum = (kind, key) => summarize(e2eRaw[kind].map((r) => r[key]));
  results.end_to_end = {
    n: E2E_N,
    relay: { msgs_per_s: esum("relay", "msgs_per_s"), p50_ms: esum("relay", "p50_ms"), p99_ms: esum("relay", "p99_ms"), cpu_ms_per_msg: esum("relay", "cpu_ms_per_msg") },
    minimal: { msgs_per_s: esum("minimal", "msgs_per_s"), p50_ms: esum("minimal", "p50_ms"), p99_ms: esum("minimal", "p99_ms"), cpu_ms_per_msg: esum("minimal", "cpu_ms_per_msg") },
    split: Object.fromEntries(
      ["relay", "minimal"].map((k) => [k, { accept_cpu_ms_per_msg: esum(k, "accept_cpu_ms_per_msg"), delivery_cpu_ms_per_msg: esum(k, "delivery_cpu_ms_per_msg"), tail_msgs: esum(k, "tail_msgs") }]),
    ),
    ratio_to_minimal: summarize(e2eRaw.relay.map((r, i) => ratio(r.msgs_per_s, e2eRaw.minimal[i].msgs_per_s))),
    raw: e2eRaw,
  };

  for (const [kind, target] of [["relay", "core:user:relay"], ["minimal", "core:user:bench-bare"]]) {
    const p = await profileIsolate(inspectorB, target, () => endToEnd(relayB, pidsB, kind, [wsB[0]], 1, SCALE_N, opts));
    results.profiles[`e2e_${kind}`] = { busy_wall_ms_per_msg: p.busy_ms / Math.max(1, p.value.sent), sent: p.value.sent, top_self: p.top_self, top_inclusive: p.top_inclusive };
  }

  // The same path through the SMTP smarthost provider (the simulators' sink, plain SMTP on
  // loopback): a batch's messages share up to max_connections sessions, so the sink sees far
  // fewer connections than messages.
  log(`bench: SMTP smarthost provider [${elapsed()}]`);
  const [wsSmtp] = await seedWorkspaces(relayB, simInfo, 1, 100, "smtp");
  await endToEnd(relayB, pidsB, "relay", [wsSmtp], 1, 100, opts);
  const smtpRaw = [];
  for (let round = 0; round < Math.min(RUNS, 3); round++) {
    const r = await endToEnd(relayB, pidsB, "relay", [wsSmtp], 1, SCALE_N, opts);
    const received = await (await fetch(`${simInfo.httpUrl}/__sim/received?kind=smtp`)).json();
    r.sink_messages = received.length;
    r.sink_sessions = new Set(received.map((m) => m.session)).size;
    smtpRaw.push(r);
    log(`  smtp provider round ${round + 1}: ${r.msgs_per_s.toFixed(0)} msg/s, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg, ${r.sink_messages} messages on ${r.sink_sessions} sessions, ${r.sent}/${r.n} sent`);
  }
  const ssum = (key) => summarize(smtpRaw.map((r) => r[key]));
  results.end_to_end.smtp_provider = {
    n: SCALE_N,
    msgs_per_s: ssum("msgs_per_s"),
    cpu_ms_per_msg: ssum("cpu_ms_per_msg"),
    messages_per_session: summarize(smtpRaw.map((r) => r.sink_messages / Math.max(1, r.sink_sessions))),
    raw: smtpRaw,
  };

  log(`bench: scaling [${elapsed()}]`);
  results.scaling = [];
  for (const [workspaces, rcpts] of [[1, 1], [10, 1], [100, 1], [1, 3], [1, 10]]) {
    // A first, shorter run over the same workspaces warms them (their Durable Objects, the
    // isolate's caches); it is reported beside the row (for 100 workspaces it is their first use).
    const first = await endToEnd(relayB, pidsB, "relay", wsB.slice(0, workspaces), rcpts, Math.ceil(SCALE_N / 3), opts);
    const h = await watchHeap(inspectorB, ISOLATE.relay, () => endToEnd(relayB, pidsB, "relay", wsB.slice(0, workspaces), rcpts, SCALE_N, opts));
    const r = { ...h.value, heap_peak_used_mib: h.peak_used_mib };
    results.scaling.push({ workspaces, recipients: rcpts, ...r, warm_up: { n: first.n, msgs_per_s: first.msgs_per_s, cpu_ms_per_msg: first.cpu_ms_per_msg } });
    log(`  ${workspaces} ws × ${rcpts} rcpt: ${r.msgs_per_s.toFixed(0)} msg/s, p50 ${r.p50_ms.toFixed(0)} ms p99 ${r.p99_ms.toFixed(0)} ms, ${r.cpu_ms_per_msg.toFixed(2)} CPU ms/msg, ${r.sent}/${r.n} sent`);
  }
  results.cost = {
    cpu_ms_per_delivered: results.end_to_end.relay.cpu_ms_per_msg,
    minimal_cpu_ms_per_delivered: results.end_to_end.minimal.cpu_ms_per_msg,
    peak_rss_mib: Math.max(results.phase_a_peak_rss_mib, peakRssMiB(workerdPids())),
    // The isolate's V8 heap (what the 128 MB per-isolate limit applies to), polled through the
    // inspector during the end-to-end rounds and the scaling runs.
    relay_heap_peak_used_mib: Math.max(...e2eRaw.relay.map((r) => r.heap_peak_used_mib), ...results.scaling.map((r) => r.heap_peak_used_mib)),
    minimal_heap_peak_used_mib: Math.max(...e2eRaw.minimal.map((r) => r.heap_peak_used_mib)),
    workerd_processes: pidsB.length,
  };
  results.worker_logs.phase_b = relayB.logs;
  await dispose(relayB);
}
