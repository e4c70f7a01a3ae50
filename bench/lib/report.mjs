// The Markdown table: every figure beside its baseline and target, medians with the spread.
import { renderStore } from "./report-store.mjs";
import { renderGrowth } from "./report-growth.mjs";
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "–");
const spread = (s) => (s && s.runs > 1 ? ` (±${s.spread_pct.toFixed(0)}%)` : "");
const med = (s, fmt = f0) => (s ? `${fmt(s.median)}${spread(s)}` : "–");
const verdict = (ok) => (ok === null ? "n/a" : ok ? "**met**" : "**missed**");
const kib = (b) => `${(b / 1024).toFixed(0)} KiB`;
const pctS = (s) => (s ? `${pct(s.median)}${s.runs > 1 ? ` (${pct(s.min)}–${pct(s.max)})` : ""}` : "–");

export function renderMarkdown(r) {
  const L = [];
  L.push(`# Relay benchmark — ${r.started_at}, commit ${r.commit ?? "?"}${r.worktree_clean ? "" : " (with local changes)"}`);
  L.push("");
  L.push(
    `${r.machine.cpus} CPU (${r.machine.cpu_model.trim()}), Node ${r.machine.node}, load average at start ${r.machine.loadavg_at_start.map((x) => x.toFixed(2)).join(" ")}. ` +
      `Medians of ${r.settings.runs_a} runs (baselines, accept) or ${r.settings.runs} runs (end to end, SMTP), (±spread) = (max − min) / median; ratios pair each run with its baseline from the same round. ` +
      `wrk at ${r.settings.connections} connections for ${r.settings.seconds} s per run; end to end ${r.settings.e2e_n} messages per run. Took ${Math.round(r.duration_s ?? 0)} s.`,
  );
  L.push("");
  const a = r.accept;
  const bw = r.baselines.bare_write;
  const e = r.end_to_end;
  const s = r.smtp ?? {};
  L.push("| section | measure | value | baseline (same run) | ratio | target | |");
  L.push("|---|---|---|---|---|---|---|");
  L.push(`| 1 baselines | trivial route \`GET /health\` | ${med(r.baselines.trivial.rps)} req/s, p99 ${med(r.baselines.trivial.p99_ms, f1)} ms | | | | |`);
  L.push(`| 1 baselines | bare durable write (accept's own D1 batch + queue send) | ${med(bw.rps)} req/s, p50 ${med(bw.p50_ms, f1)} ms, p99 ${med(bw.p99_ms, f1)} ms | | | | |`);
  L.push(`| 2 accept | \`POST /v1/messages\` throughput | ${med(a.rps)} req/s | ${med(bw.rps)} req/s bare write | ${pctS(a.rps_ratio_to_bare)} | ≥ 80% | ${verdict(a.rps_ratio_to_bare.median >= 0.8)} |`);
  L.push(`| 2 accept | latency p50 / p99 | ${med(a.p50_ms, f1)} / ${med(a.p99_ms, f1)} ms | ${med(bw.p99_ms, f1)} ms p99 | ${f2(a.p99_ratio_to_bare.median)}× (${f2(a.p99_ratio_to_bare.min)}–${f2(a.p99_ratio_to_bare.max)}) | p99 ≤ 2× | ${verdict(a.p99_ratio_to_bare.median <= 2)} |`);
  L.push(`| 2 accept | workerd process CPU per request | ${med(a.cpu_ms_per_request, f2)} ms | ${med(bw.cpu_ms_per_request, f2)} ms bare write | | | |`);
  L.push(`| 3 end to end | accepted → \`sent\` (Mailgun simulator) | ${med(e.relay.msgs_per_s)} msg/s | ${med(e.minimal.msgs_per_s)} msg/s minimal consumer | ${pctS(e.ratio_to_minimal)} | ≥ 70% | ${verdict(e.ratio_to_minimal.median >= 0.7)} |`);
  if (e.smtp_provider) {
    const sp = e.smtp_provider;
    L.push(
      `| 3 end to end | through the SMTP smarthost provider instead (the sink simulator, plain SMTP on loopback; ${sp.n} messages per run) | ${med(sp.msgs_per_s)} msg/s, ${med(sp.cpu_ms_per_msg, f2)} CPU ms/msg, ${med(sp.messages_per_session, f1)} messages per SMTP session | | | | |`,
    );
  }
  L.push(`| 3 end to end | accept→sent latency p50 / p99 | ${med(e.relay.p50_ms)} / ${med(e.relay.p99_ms)} ms | ${med(e.minimal.p50_ms)} / ${med(e.minimal.p99_ms)} ms | | | |`);
  L.push(`| 4 cost | workerd process CPU per delivered message (accept + delivery; includes Miniflare's local D1/Queues) | ${med(r.cost.cpu_ms_per_delivered, f2)} ms | ${med(r.cost.minimal_cpu_ms_per_delivered, f2)} ms minimal | ${f1(r.cost.cpu_ms_per_delivered.median / r.cost.minimal_cpu_ms_per_delivered.median)}× | ≤ 2 ms | ${verdict(r.cost.cpu_ms_per_delivered.median <= 2)} |`);
  // The relay's own share: what it costs over the minimal consumer in the same round (the
  // floor is Miniflare's local D1, Queues and Durable Objects, which a deployed Worker does not pay).
  const over = (e.raw?.relay ?? []).map((x, i) => x.cpu_ms_per_msg - (e.raw.minimal[i]?.cpu_ms_per_msg ?? NaN)).filter(Number.isFinite).sort((x, y) => x - y);
  if (over.length) {
    const mid = over[Math.floor(over.length / 2)];
    L.push(`| 4 cost | the relay's CPU over the minimal consumer's, per delivered message (paired by round) | ${f2(mid)} ms (${f2(over[0])}–${f2(over[over.length - 1])}) | | | | |`);
  }
  if (e.split) {
    const sp = e.split;
    L.push(
      `| 4 cost | the same, split: accept / delivery alone (delivery from the CPU after the last accept answered, over the messages sent after it: median ${f0(sp.relay.tail_msgs.median)} of ${e.n}) | ${med(sp.relay.accept_cpu_ms_per_msg, f2)} / ${med(sp.relay.delivery_cpu_ms_per_msg, f2)} ms | ${med(sp.minimal.accept_cpu_ms_per_msg, f2)} / ${med(sp.minimal.delivery_cpu_ms_per_msg, f2)} ms bare write / minimal consumer | | | |`,
    );
  }
  L.push(`| 4 cost | workerd peak RSS (the whole process: every Miniflare Worker and database) | ${f0(r.cost.peak_rss_mib)} MiB | | | | |`);
  if (r.cost.relay_heap_peak_used_mib !== undefined) {
    L.push(
      `| 4 cost | peak V8 heap used by the relay's isolate (its Durable Objects included), end to end and scaling | ${f1(r.cost.relay_heap_peak_used_mib)} MiB | ${f1(r.cost.minimal_heap_peak_used_mib)} MiB minimal consumer's isolate | | a Worker isolate may use 128 MB | |`,
    );
  }
  if (s.error) {
    L.push(`| 5 SMTP | smtp-source → bridge → relay | failed: ${s.error.split("\n")[0].slice(0, 160)} | | | ≥ 80% of API | **not measured** |`);
  } else {
    L.push(`| 5 SMTP | smtp-source → bridge → relay (${s.sessions} sessions, ${s.messages_per_run} msgs) | ${med(s.bridge_rps)} msg/s | ${med(s.api_mime_rps)} msg/s API \`POST /v1/messages/mime\` (same N, same concurrency) | ${pctS(s.bridge_ratio_to_api)} | ≥ 80% | ${verdict(s.bridge_ratio_to_api.median >= 0.8)} |`);
    L.push(`| 5 SMTP | smtp-source → smtp-sink (bare SMTP) | ${med(s.sink_rps)} msg/s | | bridge at ${pct(s.bridge_ratio_to_sink)} of it | | |`);
  }
  if (r.limiter) {
    L.push(`| limits | limiter decisions, one workspace (one Durable Object) | ${med(r.limiter.one_workspace_rps)} decisions/s, p50 ${med(r.limiter.one_workspace_p50_ms, f1)} ms | ${med(r.baselines.trivial.rps)} req/s trivial route | adds ${med(r.limiter.added_p50_ms, f1)} ms p50 per accept | | |`);
    L.push(`| limits | limiter decisions, a new workspace per request | ${med(r.limiter.many_workspaces_rps)} decisions/s | | | | |`);
  }
  const lazy = (r.bundle.modules ?? []).filter((m) => m.file !== "index.js");
  L.push(`| 6 bundle | \`wrangler deploy --dry-run\`: main module index.js (what every isolate loads) | ${kib(r.bundle.raw_bytes)} raw, ${kib(r.bundle.gzip_bytes)} gzip | | | ≤ 300 KiB gzip | ${verdict(r.bundle.gzip_bytes <= 300 * 1024)} |`);
  if (lazy.length) {
    L.push(`| 6 bundle | lazily loaded modules (${lazy.map((m) => m.file + " " + kib(m.gzip_bytes)).join(", ")}) and the whole upload | total ${kib(r.bundle.total_raw_bytes)} raw, ${kib(r.bundle.total_gzip_bytes)} gzip | | | | |`);
  }
  L.push(`| 6 start-up | CPU in \`wrangler check startup\` profile | ${med(r.startup.busy_ms)} ms (profile span ${med(r.startup.span_ms)} ms) | | | | |`);
  L.push("");
  const warmed = r.scaling.some((x) => x.warm_up);
  L.push(`## 7 Scaling (end to end, ${r.settings.scale_n} messages per run, one run each${warmed ? ", after a first run of a third as many over the same workspaces" : ""})`);
  L.push("");
  const heap = r.scaling.some((x) => x.heap_peak_used_mib !== undefined);
  L.push(
    `| workspaces | recipients / message | msg/s | recipients/s | accept→sent p50 / p99 ms | CPU ms / message | CPU ms / recipient | sent |${heap ? " relay isolate heap peak MiB |" : ""}${warmed ? " warm-up run before it: msg/s, CPU ms / message |" : ""}`,
  );
  L.push(`|---|---|---|---|---|---|---|---|${heap ? "---|" : ""}${warmed ? "---|" : ""}`);
  for (const x of r.scaling) {
    const ft = x.warm_up ? ` ${f0(x.warm_up.msgs_per_s)}, ${f2(x.warm_up.cpu_ms_per_msg)} |` : warmed ? " |" : "";
    const hp = heap ? ` ${f1(x.heap_peak_used_mib)} |` : "";
    L.push(`| ${x.workspaces} | ${x.recipients} | ${f0(x.msgs_per_s)} | ${f0(x.msgs_per_s * x.recipients)} | ${f0(x.p50_ms)} / ${f0(x.p99_ms)} | ${f2(x.cpu_ms_per_msg)} | ${f2(x.cpu_ms_per_msg / x.recipients)} | ${x.sent}/${x.n} |${hp}${ft}`);
  }
  if (r.profiles) {
    L.push("");
    L.push("## Where the time goes (V8 CPU profile of the isolate, share of its busy samples, inclusive)");
    L.push("");
    for (const [name, p] of Object.entries(r.profiles)) {
      if (!p.top_inclusive) continue;
      L.push(`- **${name}**: ` + p.top_inclusive.slice(0, 12).map((x) => `${x.fn} ${x.pct}%`).join(", "));
    }
  }
  if (r.notes.length) {
    L.push("");
    for (const n of r.notes) L.push(`- ${n}`);
  }
  L.push("");
  if (r.store) L.push(renderStore(r.store));
  if (r.growth) L.push(renderGrowth(r.growth));
  return L.join("\n");
}
