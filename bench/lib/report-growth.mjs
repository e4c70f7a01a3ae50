// The growth phase's rows (bench/lib/growth-phase.mjs): per backend, each level's accept and list
// latency and /metrics scrape beside the first level's (and the empty database's scrape), and the
// ratios against the 1.5× targets.
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const spread = (s) => (s && s.runs > 1 ? ` (±${s.spread_pct.toFixed(0)}%)` : "");
const med = (s, fmt = f1) => (s ? `${fmt(s.median)}${spread(s)}` : "–");
const rows = (n) => (n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3}k` : String(n));

function verdict(r, atTarget) {
  if (!r) return "–";
  const v = r.met === null ? `n/a${r.clean === false ? " (failed requests)" : ""}` : r.met ? "**met**" : "**missed**";
  return atTarget ? v : `${v} at these levels (the target is 10k → 1M)`;
}

export function renderGrowth(g) {
  const L = ["", "## Growth: latency as the history grows (same run)", "", g.note ?? "", ""];
  const s = g.settings;
  L.push(
    `Levels ${s.levels.map(rows).join(", ")} history messages; per level ${s.rounds} alternating rounds of wrk at ${s.connections} connections for ${s.seconds} s (medians over rounds, spread ±), /metrics the median of ${s.scrapes} sequential scrapes.`,
  );
  L.push("");
  L.push("| store | history | messages / recipients in the table | seeded in | accept p50 / p99 ms | accept req/s | list p50 / p99 ms | list req/s | /metrics scrape ms |");
  L.push("|---|---|---|---|---|---|---|---|---|");
  for (const kind of ["d1", "mysql"]) {
    const b = g[kind];
    if (!b || b.skipped) {
      L.push(`| ${kind} | skipped: ${b?.skipped ?? "not run"} | | | | | | | |`);
      continue;
    }
    L.push(`| ${kind} | empty | – | – | – | – | – | – | ${med(b.empty.scrape_ms)} |`);
    for (const l of b.levels) {
      if (l.skipped) {
        L.push(`| ${kind} | ${rows(l.level)} | ${l.skipped} | | | | | | |`);
        continue;
      }
      const errs = (x) => (x.errors ? ` (${x.errors} errors)` : "");
      L.push(
        `| ${kind} | ${rows(l.level)} | ${l.messages} / ${l.recipients} | ${f0(l.seed_s)} s (${f0(l.seed_rows_per_s)} rows/s) | ${med(l.accept.p50_ms)} / ${med(l.accept.p99_ms)}${errs(l.accept)} | ${med(l.accept.rps, f0)} | ${med(l.list.p50_ms)} / ${med(l.list.p99_ms)}${errs(l.list)} | ${med(l.list.rps, f0)} | ${med(l.scrape_ms)} |`,
      );
    }
  }
  L.push("");
  L.push(`| store | measure | baseline | at the top level | ratio | target | verdict |`);
  L.push("|---|---|---|---|---|---|---|");
  for (const kind of ["d1", "mysql"]) {
    const b = g[kind];
    if (!b || b.skipped) continue;
    const r = b.ratios;
    if (!r || r.incomplete) {
      L.push(`| ${kind} | – | – | – | – | – | not judged: fewer than two levels measured |`);
      continue;
    }
    const first = b.levels.find((l) => l.level === r.base);
    const top = b.levels.find((l) => l.level === r.top);
    const at = r.at_target_levels;
    L.push(`| ${kind} | accept p50 | ${f1(first.accept.p50_ms.median)} ms at ${rows(r.base)} | ${f1(top.accept.p50_ms.median)} ms at ${rows(r.top)} | ${f2(r.accept_p50.value)}× | ≤ ${g.target}× | ${verdict(r.accept_p50, at)} |`);
    L.push(`| ${kind} | list p50 | ${f1(first.list.p50_ms.median)} ms at ${rows(r.base)} | ${f1(top.list.p50_ms.median)} ms at ${rows(r.top)} | ${f2(r.list_p50.value)}× | ≤ ${g.target}× | ${verdict(r.list_p50, at)} |`);
    L.push(`| ${kind} | /metrics scrape | ${f1(b.empty.scrape_ms.median)} ms empty | ${f1(top.scrape_ms.median)} ms at ${rows(r.top)} | ${f2(r.scrape.value)}× | ≤ ${g.target}× | ${verdict(r.scrape, at)} |`);
  }
  const errors = ["d1", "mysql"].flatMap((k) => (g[k]?.worker_errors ?? []).map((e) => `${k}: ${e}`));
  if (errors.length) {
    L.push("");
    L.push("Worker errors logged during the phase (first few):");
    for (const e of errors) L.push(`- ${e.replaceAll("\n", " ").slice(0, 300)}`);
  }
  return L.join("\n");
}
