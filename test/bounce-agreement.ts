// How far the relay's bounce reader agrees with sisimai on a set of corpus files: per field
// (recipient, reason, hard/soft, status), over every record sisimai reports. Pure: the corpus
// test (test/bounce-corpus.test.ts) runs it inside workerd, scripts/bounce-agreement.ts in Node
// (to look at one half of the corpus while tuning on the other).
import type { Classification } from "../core/bounce/classify";

/** One record of sisimai's verdict on a file (scripts/sisimai-expectations.pl). */
export interface SisimaiRecord {
  recipient: string;
  reason: string;
  /** 1 soft, 0 hard, -1 not a bounce (feedback, vacation, delivered). */
  softbounce: number;
  status: string;
  replycode: string;
  action: string;
  diagnostic: string;
}

export type Field = "recipient" | "reason" | "hardsoft" | "status";

export interface Tally {
  agree: number;
  total: number;
}

export interface Agreement {
  fields: Record<Field, Tally>;
  /** Records where sisimai gives a real status (not its x.0.9xx stand-in) and the reader gives none. */
  statusMissing: number;
  /** Files sisimai reads as a bounce and the reader does not (or the other way round). */
  misses: { file: string; field: Field; ours: string; sisimai: string }[];
}

const PSEUDO_STATUS = /^\d\.0\.9\d\d$/;

/** The reason the reader gives a report as a whole: a complaint is sisimai's feedback, and so on. */
function ourRecord(c: Classification, email: string): { email: string | null; reason: string | null; kind: string; status: string | null; inferred: boolean } {
  const found = c.recipients.find((r) => r.email.toLowerCase() === email.toLowerCase());
  if (found) return { email: found.email, reason: found.reason, kind: found.kind, status: found.status, inferred: found.statusInferred };
  const first = c.recipients.find((r) => r.kind !== "delivered") ?? c.recipients[0];
  if (first) return { email: first.email, reason: first.reason, kind: first.kind, status: first.status, inferred: first.statusInferred };
  return { email: c.recipient, reason: c.reason, kind: c.kind, status: c.status, inferred: c.statusInferred };
}

export function compare(results: Map<string, Classification>, expected: Record<string, SisimaiRecord[]>): Agreement {
  const fields: Record<Field, Tally> = { recipient: { agree: 0, total: 0 }, reason: { agree: 0, total: 0 }, hardsoft: { agree: 0, total: 0 }, status: { agree: 0, total: 0 } };
  const misses: Agreement["misses"] = [];
  let statusMissing = 0;
  const count = (file: string, field: Field, ok: boolean, ours: string, sisimai: string) => {
    fields[field].total++;
    if (ok) fields[field].agree++;
    else misses.push({ file, field, ours, sisimai });
  };
  for (const [file, c] of results) {
    for (const r of expected[file] ?? []) {
      const ours = ourRecord(c, r.recipient);
      if (r.recipient && !r.recipient.endsWith(".invalid")) {
        count(file, "recipient", ours.email?.toLowerCase() === r.recipient.toLowerCase(), ours.email ?? "-", r.recipient);
      }
      count(file, "reason", ours.reason === r.reason, ours.reason ?? `- (${c.kind})`, r.reason);
      if (r.softbounce === 0 || r.softbounce === 1) {
        const hard = ours.kind === "hard";
        const bounce = ours.kind === "hard" || ours.kind === "soft";
        count(file, "hardsoft", bounce && hard === (r.softbounce === 0), bounce ? ours.kind : c.kind, r.softbounce === 0 ? "hard" : "soft");
      }
      if (r.status && !PSEUDO_STATUS.test(r.status)) {
        if (ours.status && !ours.inferred) count(file, "status", ours.status === r.status, ours.status, r.status);
        else statusMissing++;
      }
    }
  }
  return { fields, statusMissing, misses };
}

export const percent = (t: Tally): number => (t.total === 0 ? 100 : (100 * t.agree) / t.total);

export function summary(a: Agreement): string {
  const f = (name: Field) => `${name} ${percent(a.fields[name]).toFixed(1)}% (${a.fields[name].agree}/${a.fields[name].total})`;
  return `${f("recipient")}, ${f("reason")}, ${f("hardsoft")}, ${f("status")}; status missing on ${a.statusMissing}`;
}

/**
 * The corpus in two halves for tuning on one and looking at the other: within each family
 * (lhost-postfix, rhost-google, ...) files alternate between the halves in name order, and
 * families alternate which half takes their first file (so one-file families split evenly).
 */
export function half(files: string[], which: 0 | 1): string[] {
  const family = (f: string) => f.replace(/-\d+\.eml$/, "");
  const seen = new Map<string, { start: number; n: number }>();
  const out: string[] = [];
  for (const f of [...files].sort()) {
    let fam = seen.get(family(f));
    if (!fam) seen.set(family(f), (fam = { start: seen.size % 2, n: 0 }));
    if ((fam.start + fam.n++) % 2 === which) out.push(f);
  }
  return out;
}
