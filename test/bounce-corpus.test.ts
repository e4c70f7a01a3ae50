/// <reference types="vite/client" />
// The bounce reader against sisimai, the reference bounce parser, on every file of the shared
// corpus (../shared/corpus/bounces): the failed recipient, the reason (sisimai's names), hard or
// soft, and the status, each compared with sisimai's own verdict on the file
// (test/fixtures/sisimai-perl-expected.json, written by scripts/sisimai-expectations.pl with
// Debian's libsisimai-perl; CI does not install sisimai, the fixture is checked in).
//
// The agreement per field is in the test names (and printed), for the whole corpus and for each
// half (test/bounce-agreement.ts): the reader is tuned for the general rule, and a half it was
// not tuned on should agree about as well. The targets are those of issue 24.
import { describe, expect, it } from "vitest";
import type { Classification } from "../core/bounce/classify";
import { classifyMail } from "../workers/mime-parse";
import { compare, half, percent, summary, type Field, type SisimaiRecord } from "./bounce-agreement";
import perl from "./fixtures/sisimai-perl-expected.json";
import rb from "./fixtures/sisimai-expected.json";

const corpus = import.meta.glob("../../shared/corpus/bounces/*.eml", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const byName = new Map(Object.entries(corpus).map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1), text]));

const TARGETS: Record<Field, number> = { recipient: 98, reason: 90, hardsoft: 95, status: 97 };

const expected = Object.fromEntries(Object.entries(perl).filter(([k]) => k.endsWith(".eml"))) as Record<string, SisimaiRecord[]>;
const results = new Map<string, Classification>();
for (const [name, text] of byName) results.set(name, await classifyMail(text));

const files = [...byName.keys()];
const pick = (names: string[]) => new Map(names.map((n) => [n, results.get(n)!]));
const all = compare(results, expected);
const halves = [compare(pick(half(files, 0)), expected), compare(pick(half(files, 1)), expected)] as const;
console.log(`bounce corpus vs sisimai: all   ${summary(all)}\n  half 0 ${summary(halves[0])}\n  half 1 ${summary(halves[1])}`);

describe("bounce corpus against sisimai (libsisimai-perl)", () => {
  it("the fixture covers the corpus", () => {
    expect(byName.size).toBeGreaterThan(300);
    for (const file of byName.keys()) expect(expected[file], file).toBeDefined();
  });

  const fields = Object.keys(TARGETS) as Field[];
  const rows = fields.map((field) => ({
    field,
    pct: percent(all.fields[field]).toFixed(1),
    target: TARGETS[field],
    h0: percent(halves[0].fields[field]).toFixed(1),
    h1: percent(halves[1].fields[field]).toFixed(1),
  }));
  it.each(rows)("$field: $pct% agree (target $target%; halves $h0% and $h1%)", ({ field }) => {
    const misses = all.misses.filter((m) => m.field === field).map((m) => `${m.file}: ours ${m.ours}, sisimai ${m.sisimai}`);
    expect(percent(all.fields[field]), misses.join("\n")).toBeGreaterThanOrEqual(TARGETS[field]);
    expect(all.fields[field].total).toBeGreaterThan(200);
  });

  it("every report sisimai reads as a bounce has a reason, and a status unless it only warns", () => {
    const missing: string[] = [];
    for (const [file, c] of results) {
      const rows = expected[file] ?? [];
      if (!rows.some((r) => r.softbounce === 0 || r.softbounce === 1)) continue;
      if (c.kind !== "hard" && c.kind !== "soft") continue;
      for (const r of c.recipients) {
        if (!r.reason) missing.push(`${file}: ${r.email} has no reason`);
        if (!r.status && r.final && r.reason !== "onhold" && r.reason !== "undefined") missing.push(`${file}: ${r.email} (${r.reason}) has no status`);
      }
    }
    expect(missing).toEqual([]);
  });
});

// The rb-sisimai expectations (test/fixtures/sisimai-expected.json: status, reply code, reason and
// hard flag per file from rb-sisimai's public test tables, a newer sisimai than Debian's) kept for
// comparison: the newer sisimai names a few reasons the Perl 4.25 one does not (notcompliantrfc,
// authfailure, ratelimited, ...), so agreement with it is lower and only watched, not a target.
describe("bounce corpus against rb-sisimai's expectations (for comparison)", () => {
  const table = Object.entries(rb as Record<string, unknown>).filter(([file]) => file.endsWith(".eml")) as [string, [string, string, string, boolean][]][];
  let reason = 0;
  let hard = 0;
  let status = 0;
  let statuses = 0;
  let bounces = 0;
  for (const [file, rows] of table) {
    const [st, , rs, isHard] = rows[0]!;
    const c = results.get(file);
    if (!c) continue;
    if (c.reason === rs) reason++;
    if (!["feedback", "vacation", "delivered"].includes(rs)) {
      bounces++;
      if ((c.kind === "hard") === isHard && (c.kind === "hard" || c.kind === "soft")) hard++;
    }
    if (st && !/^\d\.0\.9\d\d$/.test(st) && c.status && !c.statusInferred) {
      statuses++;
      if (c.status === st) status++;
    }
  }
  const pct = (n: number, d: number) => ((100 * n) / Math.max(d, 1)).toFixed(1);
  console.log(`bounce corpus vs rb-sisimai: reason ${pct(reason, table.length)}%, hard/soft ${pct(hard, bounces)}%, status ${pct(status, statuses)}%`);

  it(`reason ${pct(reason, table.length)}%, hard/soft ${pct(hard, bounces)}%, status ${pct(status, statuses)}%`, () => {
    expect(table.length).toBeGreaterThan(320);
    // A floor well under the Perl targets: a drop below it means the reader broke, not that the versions differ.
    expect(reason / table.length).toBeGreaterThan(0.75);
    expect(hard / bounces).toBeGreaterThan(0.85);
    expect(status / statuses).toBeGreaterThan(0.9);
  });
});
