// Prints how far the bounce reader agrees with sisimai on the corpus, per field, for the whole
// corpus and for each half (test/bounce-agreement.ts splits it), and with --misses every
// disagreement. For tuning on one half while keeping an eye on the other:
//   npx tsx scripts/bounce-agreement.ts [--half 0|1] [--misses] [--field reason] [corpus dir]
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import PostalMime from "postal-mime";
import { classifyParsed, type Classification } from "../core/bounce/classify";
import { compare, half, summary, type SisimaiRecord } from "../test/bounce-agreement";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const which = flag("--half");
const field = flag("--field");
const showMisses = args.includes("--misses");
const dir = args.find((a) => !a.startsWith("--")) ?? path.resolve(import.meta.dirname, "../../shared/corpus/bounces");
const expected = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../test/fixtures/sisimai-perl-expected.json"), "utf8")) as Record<string, SisimaiRecord[]>;

const files = readdirSync(dir).filter((f) => f.endsWith(".eml"));
const results = new Map<string, Classification>();
for (const f of files) {
  const raw = readFileSync(path.join(dir, f));
  const mail = await PostalMime.parse(raw, { forceRfc822Attachments: true, attachmentEncoding: "arraybuffer", maxNestingDepth: 50 });
  results.set(f, classifyParsed(mail, new Uint8Array(raw)));
}
const pick = (names: string[]) => new Map(names.map((n) => [n, results.get(n)!]));
console.log(`all     ${summary(compare(results, expected))}`);
for (const h of [0, 1] as const) console.log(`half ${h}  ${summary(compare(pick(half(files, h)), expected))}`);
if (showMisses) {
  const names = which === undefined ? files : half(files, Number(which) as 0 | 1);
  for (const m of compare(pick(names), expected).misses) {
    if (!field || m.field === field) console.log(`${m.file.padEnd(40)} ${m.field.padEnd(9)} ours ${m.ours.padEnd(32)} sisimai ${m.sisimai}`);
  }
}
