// PHI guard: before content goes to an LLM, identifiers are replaced by placeholders like
// [[EMAIL_1]], and the answer's placeholders are put back afterwards. What is masked: email
// addresses, phone numbers (national and international), record numbers (MRN, patient/chart/
// account/member ids, SSNs, letter-prefixed numbers), dates (all of them: HIPAA's Safe Harbor
// counts every date tied to a person, and a date of birth rarely announces itself), the names
// of the message's recipients, the workspace's own patterns — and, so the model cannot alter
// them, links and {{VARIABLES}} (a link's query string often carries an identifier too).
//
// Every detector runs over the original text; overlapping matches are merged into one span,
// so nothing any detector found is left half-visible. The same value gets the same
// placeholder everywhere, numbered in order of first appearance: equal content masks to equal
// text, which is what makes the cache work across recipients.
import { tenantMatches, type TenantRegex } from "../tenant-regex";

export type MaskKind = "literal" | "var" | "link" | "email" | "phone" | "record" | "dob" | "date" | "name" | "custom";

const LABEL: Record<MaskKind, string> = {
  literal: "TOKEN",
  var: "VAR",
  link: "LINK",
  email: "EMAIL",
  phone: "PHONE",
  record: "ID",
  dob: "DOB",
  date: "DATE",
  name: "NAME",
  custom: "ID",
};

/** Our placeholder syntax. Text that already looks like one is masked too, so it cannot collide. */
export const PLACEHOLDER = /\[\[[A-Z]{1,10}_\d{1,6}\]\]/g;

const MONTH = "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const ORD = "(?:st|nd|rd|th)?";

interface Detector {
  kind: MaskKind;
  /** Our own, reviewed V8 regexes; tenant patterns never become a Detector (they run on RE2). */
  re: RegExp;
  /** Mask only this capture group (e.g. the number after "MRN:"). */
  group?: number;
  /** Drop matches this rejects (e.g. too few digits to be a phone number). */
  accept?: (s: string) => boolean;
}

const digits = (s: string) => s.replace(/\D/g, "").length;

const DETECTORS: Detector[] = [
  { kind: "literal", re: PLACEHOLDER },
  { kind: "var", re: /\{\{[^{}\r\n]{1,600}\}\}|<<TRENDING_QUESTION>>/g },
  // Links: absolute URLs anywhere, and every href/src/action value in HTML (relative, cid:, …).
  { kind: "link", re: /\b(?:https?:\/\/|www\.)[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/gi },
  { kind: "link", re: /\b(?:mailto|tel|sms):[^\s<>"'`]+/gi },
  { kind: "link", re: /\b(?:href|src|action)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi, group: -1 },
  { kind: "email", re: /[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?)+/gu },
  // Keyword + identifier: "MRN: 12345678", "Patient ID A-77812", "SSN 123-45-6789", "Member # XK12".
  {
    kind: "record",
    re: /\b(?:mrn|medical\s+record(?:\s+(?:number|no\.?|#))?|record\s+(?:number|no\.?|#)|(?:patient|chart|account|acct|member|insurance|policy|case|encounter|visit|subscriber|claim|health\s+plan)\s*(?:id|number|no\.?|#)|ssn|social\s+security(?:\s+(?:number|no\.?|#))?|npi|dea)\s*(?:is|:|#|-)?\s*([A-Z0-9][A-Z0-9-]{2,30})/giu,
    group: 1,
    accept: (s) => digits(s) >= 2,
  },
  { kind: "record", re: /\b\d{3}-\d{2}-\d{4}\b/g },
  // Letter-prefixed record numbers: "A1234567", "MRN-00123456", "PT 4455667".
  { kind: "record", re: /\b[A-Z]{1,4}[- ]?\d{5,}\b/g },
  // Dates: 03/14/1962, 1962-03-14, 14.03.62, March 14, 1962, 14 Mar 1962, Mar 14th.
  { kind: "date", re: /\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b/g, accept: (s) => /^(\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})$/.test(s) },
  { kind: "date", re: new RegExp(`\\b${MONTH}\\.?\\s+\\d{1,2}${ORD}(?:,?\\s+\\d{4})?\\b`, "gi") },
  { kind: "date", re: new RegExp(`\\b\\d{1,2}${ORD}\\s+(?:of\\s+)?${MONTH}\\.?(?:,?\\s+\\d{4})?\\b`, "gi") },
  { kind: "date", re: new RegExp(`\\b${MONTH}\\.?\\s+\\d{4}\\b`, "gi") },
  // Phone numbers: +44 20 7946 0958, (555) 123-4567, 555.123.4567, 0049 30 1234567, 12345678.
  { kind: "phone", re: /(?<![\p{L}\p{N}+])(?:\+|00)?\(?\d[\d \t().\/-]{5,22}\d(?:\s*(?:x|ext\.?)\s*\d{1,6})?(?![\p{L}\p{N}])/giu, accept: (s) => digits(s) >= 7 && digits(s) <= 18 },
];

// A date this close after one of these words is a date of birth (reported as such; masked either way).
const DOB_CONTEXT = /\b(?:dob|d\.o\.b\.?|born|birth(?:day|date)?|date\s+of\s+birth)\b[^\n]{0,20}$/i;

interface Span {
  start: number;
  end: number;
  kind: MaskKind;
}

export interface GuardOptions {
  /** Recipients' names (first, last, display); each is masked wherever it appears as a word. */
  names?: string[];
  /**
   * The workspace's own patterns, already compiled on RE2 (compilePhiPatterns in ./settings):
   * the engine is loaded lazily by the caller, and whether a pattern that does not compile may
   * still let content go (it may not) is the caller's decision, made before anything is masked.
   */
  patterns?: TenantRegex[];
}

export interface Masked {
  /** The parts with identifiers replaced. */
  parts: Record<string, string>;
  /** Placeholder → the original text it stands for. */
  values: Record<string, string>;
  /** How many distinct values of each kind were masked (for the record; no values). */
  counts: Partial<Record<MaskKind, number>>;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One alternation of the names (longest first, so "Ann Archer" wins over "Ann"), as whole words. */
export function nameDetector(names: string[]): Detector | null {
  const list = [...new Set(names.flatMap((n) => [n, ...n.split(/\s+/)]).map((n) => n.trim()).filter((n) => [...n].length >= 2))]
    .sort((a, b) => b.length - a.length)
    .slice(0, 3000);
  if (list.length === 0) return null;
  const alt = list.map((n) => escapeRegExp(n).replace(/\s+/g, "\\s+")).join("|");
  return { kind: "name", re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${alt})(?![\\p{L}\\p{N}])`, "giu") };
}

function spansOf(text: string, d: Detector): Span[] {
  const out: Span[] = [];
  d.re.lastIndex = 0;
  for (const m of text.matchAll(d.re)) {
    if (m[0].length === 0) continue;
    let start = m.index;
    let value = m[0];
    if (d.group !== undefined) {
      // -1: whichever group matched (href="…" or href='…'); an empty attribute masks nothing.
      const g = d.group === -1 ? (m[1] !== undefined ? 1 : 2) : d.group;
      const inner = m[g];
      if (!inner) continue;
      start = m.index + m[0].lastIndexOf(inner);
      value = inner;
    }
    if (d.accept && !d.accept(value)) continue;
    out.push({ start, end: start + value.length, kind: d.kind });
  }
  return out;
}

/**
 * Overlapping spans become one, so a partial match never leaves a remainder. For equal spans the
 * earlier detector's kind wins (the sort is stable): a date is reported as a date, not a phone.
 */
function merge(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

/** Masks every part (in the given key order, so numbering is stable). */
export function maskParts(parts: Record<string, string>, opts: GuardOptions = {}): Masked {
  const detectors = [...DETECTORS];
  const names = nameDetector(opts.names ?? []);
  if (names) detectors.push(names);

  // The workspace's own patterns run on RE2 (linear time).
  const customRes = opts.patterns ?? [];

  const byValue = new Map<string, string>();
  const values: Record<string, string> = {};
  const counts: Partial<Record<MaskKind, number>> = {};
  const out: Record<string, string> = {};
  let n = 0;
  for (const [key, text] of Object.entries(parts)) {
    const spans = merge([
      ...detectors.flatMap((d) => spansOf(text, d)),
      ...customRes.flatMap((re) => [...tenantMatches(re, text)].map((m) => ({ ...m, kind: "custom" as const }))),
    ]);
    let masked = "";
    let at = 0;
    for (const s of spans) {
      const value = text.slice(s.start, s.end);
      const kind = s.kind === "date" && DOB_CONTEXT.test(text.slice(Math.max(0, s.start - 40), s.start)) ? "dob" : s.kind;
      let ph = byValue.get(value);
      if (!ph) {
        ph = `[[${LABEL[kind]}_${++n}]]`;
        byValue.set(value, ph);
        values[ph] = value;
        counts[kind] = (counts[kind] ?? 0) + 1;
      }
      masked += text.slice(at, s.start) + ph;
      at = s.end;
    }
    out[key] = masked + text.slice(at);
  }
  return { parts: out, values, counts };
}

/** The placeholders in a text, each once. */
export const placeholdersIn = (text: string): Set<string> => new Set(text.match(PLACEHOLDER) ?? []);

/** Puts the originals back. Unknown placeholders are left as they are (validation refuses those first). */
export function restore(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (ph) => (Object.prototype.hasOwnProperty.call(values, ph) ? values[ph]! : ph));
}
