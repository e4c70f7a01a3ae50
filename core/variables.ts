// Template variables in structured messages: `{{NAME}}` and `{{NAME|default}}`.
//
// Why not a template library: the maintained mustache-style engines either compile templates
// with `new Function` (Handlebars; refused by Workers without precompilation) or, like
// mustache.js, have no default-value syntax, escape one way for every part (we need HTML
// escaping in HTML, none in text, CR/LF removal in headers), and give meaning to `{{#...}}`,
// `{{>...}}`, `{{{...}}}` and `{{=...=}}`, which would turn ordinary text in clinical mail
// into sections, partials or delimiter changes. What we need is one regular expression wide.
//
// Precedence: recipient (FIRST_NAME, LAST_NAME, the recipient's custom fields) > message
// `variables` > workspace `variables` > the default in the tag. An unknown variable without a
// default renders as the empty string (strict mode refuses such a message at accept instead).

export type VariableValue = string | number | boolean;
export type VariableMap = Record<string, VariableValue>;

export interface VariableSources {
  recipient?: VariableMap;
  message?: VariableMap;
  workspace?: VariableMap;
}

/** How a value is written into its part. */
export type RenderMode = "text" | "html" | "header";

// A name is an identifier; the default is anything up to the closing braces on one line.
const TAG = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*(?:\|([^{}\r\n]{0,500}))?\}\}/g;

export interface VariableUse {
  name: string;
  hasDefault: boolean;
}

/** Every variable tag in these texts, in order of appearance (duplicates kept once). */
export function variablesIn(...texts: (string | undefined)[]): VariableUse[] {
  const seen = new Map<string, VariableUse>();
  for (const t of texts) {
    if (!t) continue;
    for (const m of t.matchAll(TAG)) {
      const prior = seen.get(m[1]!);
      // A name is "defaulted" only if every use of it carries a default.
      if (!prior) seen.set(m[1]!, { name: m[1]!, hasDefault: m[2] !== undefined });
      else if (m[2] === undefined) prior.hasDefault = false;
    }
  }
  return [...seen.values()];
}

export const usesVariables = (...texts: (string | undefined)[]): boolean => variablesIn(...texts).length > 0;

/** The names used without a default that `known` does not hold (for strict mode). */
export function unknownVariables(known: ReadonlySet<string>, ...texts: (string | undefined)[]): string[] {
  return variablesIn(...texts)
    .filter((v) => !v.hasDefault && !known.has(v.name))
    .map((v) => v.name);
}

/** The recipient's own variables: FIRST_NAME, LAST_NAME and custom fields (empty values omitted). */
export function recipientVariables(r: { firstName: string | null; lastName: string | null; fields: Record<string, string> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.fields)) if (v !== "") out[k] = v;
  if (r.firstName) out.FIRST_NAME = r.firstName;
  if (r.lastName) out.LAST_NAME = r.lastName;
  return out;
}

const own = (m: VariableMap | undefined, k: string): VariableValue | undefined =>
  m && Object.prototype.hasOwnProperty.call(m, k) ? m[k] : undefined;

export function resolveVariable(name: string, s: VariableSources): string | undefined {
  const v = own(s.recipient, name) ?? own(s.message, name) ?? own(s.workspace, name);
  return v === undefined ? undefined : String(v);
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Header values: line breaks (and other control characters) become single spaces. */
export const headerSafe = (s: string): string => s.replace(/[\r\n\t\v\f\0\x01-\x08\x0e-\x1f\x7f\u2028\u2029]+/g, " ");

function encode(value: string, mode: RenderMode): string {
  if (mode === "html") return escapeHtml(value);
  if (mode === "header") return headerSafe(value);
  return value;
}

/** Substitutes every tag in `text`; values (and defaults) are encoded for the part. */
export function renderTemplate(text: string, sources: VariableSources, mode: RenderMode): string {
  const out = text.replace(TAG, (_m, name: string, fallback: string | undefined) => {
    const value = resolveVariable(name, sources);
    if (value !== undefined) return encode(value, mode);
    // The default is the template author's own text (already HTML in an HTML part).
    return mode === "header" ? headerSafe(fallback?.trim() ?? "") : (fallback?.trim() ?? "");
  });
  return mode === "header" ? headerSafe(out) : out;
}
