// Is the API still compatible with the last released one? (issue 27; `npm run openapi:compat`,
// part of `npm test` after the lint.) Diffs the document the Worker serves (rendered in-process,
// scripts/openapi-document.mjs) against openapi/released.json and fails on a breaking change
// unless info.version's major number was raised:
//   - an operation (path + method) or a webhook event type removed;
//   - requests: a new required parameter, header or body field, a body that became required, a
//     parameter or body field removed, a type narrowed (a type or null no longer accepted, an enum
//     value removed);
//   - answers (and webhook bodies, which receivers read): a field removed or no longer always
//     present, a type widened (a new type or null), an enum value removed, a 2xx answer removed.
// Additions are compatible: new operations, optional request fields, answer fields, enum values in
// answers (a client must tolerate unknown values). At a release, `--write` records the current
// document as the released one. `--base FILE` / `--current FILE` compare two files instead (the
// test of this script runs it on a deliberately broken copy).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const releasedFile = path.resolve(opt("--base") ?? path.join(root, "openapi", "released.json"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async function current() {
  const file = opt("--current");
  if (file) return JSON.parse(readFileSync(path.resolve(file), "utf8"));
  const { renderDocument } = await import("./openapi-document.mjs");
  return renderDocument();
}

const major = (v) => Number(String(v ?? "0").split(".")[0]) || 0;

/** The schema a $ref names, in its own document. */
function deref(doc, schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 20; i++) {
    const parts = s.$ref.replace(/^#\//, "").split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    s = parts.reduce((o, k) => (o == null ? undefined : o[k]), doc);
  }
  return s ?? {};
}

/** The JSON types a schema admits ("null" included), or null when it does not say (any). */
function typesOf(s) {
  const out = new Set();
  if (Array.isArray(s.type)) s.type.forEach((t) => out.add(t));
  else if (typeof s.type === "string") out.add(s.type);
  if (s.nullable === true) out.add("null");
  if (Array.isArray(s.enum) && out.size === 0) for (const v of s.enum) out.add(v === null ? "null" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v);
  if ("const" in s && out.size === 0) out.add(s.const === null ? "null" : typeof s.const);
  // A number includes the integers: integer → number is a widening, number → integer a narrowing.
  if (out.has("number")) out.add("integer");
  return out.size ? out : null;
}

const enumOf = (s) => (Array.isArray(s.enum) ? s.enum : "const" in s ? [s.const] : null);
const variants = (s) => s.anyOf ?? s.oneOf ?? null;

/**
 * Compares a schema as released (a) with the current one (b). `dir` is "request" (the client writes
 * it: the relay must go on accepting what it accepted) or "response" (the client reads it: it must
 * go on finding what it found). Pushes one line per breaking change.
 */
function compareSchema(docA, a0, docB, b0, dir, where, out, seen = new Set()) {
  const key = `${a0?.$ref ?? ""}|${b0?.$ref ?? ""}|${dir}`;
  if ((a0?.$ref || b0?.$ref) && seen.has(key)) return;
  if (a0?.$ref || b0?.$ref) seen.add(key);
  const a = deref(docA, a0);
  const b = deref(docB, b0);
  // allOf: compare the merged object view.
  const merged = (doc, s) => {
    if (!s.allOf) return s;
    const m = { ...s, allOf: undefined, properties: { ...(s.properties ?? {}) }, required: [...(s.required ?? [])] };
    for (const part of s.allOf.map((p) => merged(doc, deref(doc, p)))) {
      Object.assign(m.properties, part.properties ?? {});
      m.required.push(...(part.required ?? []));
      if (!m.type && part.type) m.type = part.type;
    }
    return m;
  };
  const A = merged(docA, a);
  const B = merged(docB, b);

  const va = variants(A);
  const vb = variants(B);
  if (va || vb) {
    if (va && vb && va.length === vb.length) {
      va.forEach((x, i) => compareSchema(docA, x, docB, vb[i], dir, `${where}|${i}`, out, seen));
      return;
    }
    if (va && vb) {
      if (dir === "request" && vb.length < va.length) out.push(`${where}: accepts fewer alternatives (${va.length} → ${vb.length})`);
      if (dir === "response" && vb.length > va.length) out.push(`${where}: may answer more alternatives (${va.length} → ${vb.length})`);
      return;
    }
    out.push(`${where}: changed between one schema and alternatives`);
    return;
  }

  const ta = typesOf(A);
  const tb = typesOf(B);
  if (dir === "request") {
    if (ta && tb) for (const t of ta) if (!tb.has(t)) out.push(`${where}: no longer accepts ${t}`);
    if (!ta && tb) out.push(`${where}: now accepts only ${[...tb].join("|")}`);
  } else if (tb) {
    // Was any: whatever it says now is narrower, which a reader can take.
    if (ta) for (const t of tb) if (!ta.has(t)) out.push(`${where}: may now be ${t}`);
  }

  const ea = enumOf(A);
  const eb = enumOf(B);
  if (ea && eb) {
    for (const v of ea) if (!eb.includes(v)) out.push(`${where}: enum value ${JSON.stringify(v)} removed`);
  } else if (!ea && eb && dir === "request") out.push(`${where}: now limited to ${JSON.stringify(eb)}`);

  if (A.properties || B.properties) {
    const pa = A.properties ?? {};
    const pb = B.properties ?? {};
    const ra = new Set(A.required ?? []);
    const rb = new Set(B.required ?? []);
    for (const name of Object.keys(pa)) {
      if (!(name in pb)) {
        // An answer field removed is gone for its readers; a request field removed is refused
        // (strict schemas) or silently ignored, either way not what the client meant.
        out.push(`${where}.${name}: removed`);
        continue;
      }
      if (dir === "response" && ra.has(name) && !rb.has(name)) out.push(`${where}.${name}: no longer always present`);
      compareSchema(docA, pa[name], docB, pb[name], dir, `${where}.${name}`, out, seen);
    }
    if (dir === "request") for (const name of rb) if (!ra.has(name)) out.push(`${where}.${name}: new required field`);
  }
  if (A.items || B.items) compareSchema(docA, A.items ?? {}, docB, B.items ?? {}, dir, `${where}[]`, out, seen);
  if (typeof A.additionalProperties === "object" && typeof B.additionalProperties === "object") {
    compareSchema(docA, A.additionalProperties, docB, B.additionalProperties, dir, `${where}{}`, out, seen);
  }
}

const paramKey = (doc, p) => {
  const r = deref(doc, p);
  return `${r.in}:${r.in === "header" ? String(r.name).toLowerCase() : r.name}`;
};

function compareOperation(docA, a, docB, b, where, out, bodyDir = "request") {
  // Parameters (path-level ones are merged in by the caller).
  const pa = new Map((a.parameters ?? []).map((p) => [paramKey(docA, p), deref(docA, p)]));
  const pb = new Map((b.parameters ?? []).map((p) => [paramKey(docB, p), deref(docB, p)]));
  for (const [k, p] of pa) {
    const q = pb.get(k);
    if (!q) {
      out.push(`${where}: parameter ${k} removed`);
      continue;
    }
    if (!p.required && q.required) out.push(`${where}: parameter ${k} became required`);
    compareSchema(docA, p.schema ?? {}, docB, q.schema ?? {}, "request", `${where} parameter ${k}`, out);
  }
  for (const [k, q] of pb) if (!pa.has(k) && q.required) out.push(`${where}: new required parameter ${k}`);

  // Request body.
  const ba = a.requestBody ? deref(docA, a.requestBody) : null;
  const bb = b.requestBody ? deref(docB, b.requestBody) : null;
  if (ba && !bb) out.push(`${where}: request body removed`);
  if (!ba && bb?.required) out.push(`${where}: new required request body`);
  if (ba && bb) {
    if (!ba.required && bb.required) out.push(`${where}: request body became required`);
    for (const [type, media] of Object.entries(ba.content ?? {})) {
      const next = bb.content?.[type];
      if (!next) out.push(`${where}: request body ${type} no longer accepted`);
      else compareSchema(docA, media.schema ?? {}, docB, next.schema ?? {}, bodyDir, `${where} body`, out);
    }
  }

  // Answers: every 2xx released is still answered, with what it had.
  for (const [status, resA0] of Object.entries(a.responses ?? {})) {
    const resB0 = b.responses?.[status];
    if (!resB0) {
      if (/^2/.test(status)) out.push(`${where}: answer ${status} removed`);
      continue;
    }
    const resA = deref(docA, resA0);
    const resB = deref(docB, resB0);
    for (const [type, media] of Object.entries(resA.content ?? {})) {
      const next = resB.content?.[type];
      if (!next) out.push(`${where}: answer ${status} ${type} removed`);
      else compareSchema(docA, media.schema ?? {}, docB, next.schema ?? {}, "response", `${where} → ${status}`, out);
    }
  }
}

/** Every breaking change from the released document `a` to the current `b`. */
export function breakingChanges(a, b) {
  const out = [];
  for (const [p, itemA] of Object.entries(a.paths ?? {})) {
    const itemB = b.paths?.[p];
    for (const m of METHODS) {
      if (!itemA[m]) continue;
      const where = `${m.toUpperCase()} ${p}`;
      if (!itemB?.[m]) {
        out.push(`${where} (${itemA[m].operationId ?? "no operationId"}): operation removed`);
        continue;
      }
      const withPathParams = (item, op) => ({ ...op, parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])] });
      compareOperation(a, withPathParams(itemA, itemA[m]), b, withPathParams(itemB, itemB[m]), where, out);
    }
  }
  // Webhooks: the relay sends these bodies and receivers read them, so they compare as answers.
  for (const [name, itemA] of Object.entries(a.webhooks ?? {})) {
    const itemB = b.webhooks?.[name];
    for (const m of METHODS) {
      if (!itemA[m]) continue;
      const where = `webhook ${name}`;
      if (!itemB?.[m]) {
        out.push(`${where}: event type removed`);
        continue;
      }
      compareOperation(a, { ...itemA[m], responses: {} }, b, { ...itemB[m], responses: {} }, where, out, "response");
    }
  }
  return out;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename);
if (isMain) {
  const started = Date.now();
  const doc = await current();
  const rel = path.relative(root, releasedFile);
  if (args.includes("--write")) {
    writeFileSync(releasedFile, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`openapi-compat: wrote ${rel} (${doc.info.version})`);
    process.exit(0);
  }
  const released = JSON.parse(readFileSync(releasedFile, "utf8"));
  const breaking = breakingChanges(released, doc);
  const from = released.info?.version;
  const to = doc.info?.version;
  const ms = Date.now() - started;
  if (breaking.length === 0) {
    const same = JSON.stringify(released) === JSON.stringify(doc);
    console.log(`openapi-compat: compatible with ${rel} (${from})${same ? "" : "; compatible changes only (recorded at the next release with --write)"}; ${ms} ms`);
  } else if (major(to) > major(from)) {
    console.log(`openapi-compat: ${breaking.length} breaking changes against ${from}, accepted by the major version ${to}:`);
    for (const b of breaking) console.log(`  ${b}`);
  } else {
    console.error(`openapi-compat: ${breaking.length} breaking changes against ${rel} (${from}); current version ${to}:`);
    for (const b of breaking) console.error(`  ${b}`);
    console.error("openapi-compat: keep the change compatible, or raise info.version's major number (workers/api/app.ts) and release it");
    process.exit(1);
  }
}
