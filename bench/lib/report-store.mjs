// The store phase's rows (bench/lib/store-phase.mjs): each backend's accept beside its own bare
// write, both backends' end to end side by side, and MySQL over D1.
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const spread = (s) => (s && s.runs > 1 ? ` (±${s.spread_pct.toFixed(0)}%)` : "");
const med = (s, fmt = f0) => (s ? `${fmt(s.median)}${spread(s)}` : "–");
const range = (s) => (s ? `${f2(s.median)}× (${f2(s.min)}–${f2(s.max)})` : "–");

export function renderStore(store) {
  const L = ["", "## Storage: D1 beside MySQL (same run)", "", store.note ?? "", ""];
  L.push("| store | measure | value | its bare write (same rounds) | ratio to bare |");
  L.push("|---|---|---|---|---|");
  for (const kind of ["d1", "mysql"]) {
    const s = store[kind];
    if (!s || s.skipped) {
      L.push(`| ${kind} | – | skipped: ${s?.skipped ?? "not run"} | | |`);
      continue;
    }
    const bareName = kind === "d1" ? "bench Worker's D1 batch" : "mysql2 transaction from Node";
    L.push(`| ${kind} | accept throughput | ${med(s.accept.rps)} req/s (errors ${s.accept.errors}) | ${med(s.bare_write.rps)} /s ${bareName} | ${range(s.accept.rps_ratio_to_bare)} |`);
    L.push(`| ${kind} | accept p50 / p99 | ${med(s.accept.p50_ms, f1)} / ${med(s.accept.p99_ms, f1)} ms | ${med(s.bare_write.p50_ms, f1)} / ${med(s.bare_write.p99_ms, f1)} ms | p99 ${range(s.accept.p99_ratio_to_bare)} |`);
    L.push(`| ${kind} | end to end (${s.e2e.sent}/${s.e2e.n} sent) | ${f0(s.e2e.msgs_per_s)} msg/s, p50 ${f0(s.e2e.p50_ms)} ms, p99 ${f0(s.e2e.p99_ms)} ms | | |`);
  }
  const r = store.mysql_to_d1;
  if (r) {
    L.push("");
    L.push(`MySQL ÷ D1: accept throughput ${f2(r.accept_rps)}×, accept p99 ${f2(r.accept_p99)}×, end-to-end throughput ${f2(r.e2e_msgs_per_s)}×, end-to-end p99 ${f2(r.e2e_p99)}×.`);
  }
  return L.join("\n");
}
