// The OpenAPI document as a client generator reads it (issue 27; Redocly's recommended ruleset
// runs on it in `npm run lint:openapi`): every operation has a unique `resource.verb`
// operationId, its one tag is that resource and is described, and it names a security scheme the
// document defines — the bearer credential, or the signature a provider webhook is checked with.
// Request bodies and error answers carry examples valid against their schemas, and the page,
// Idempotency-Key and Relay-Bookmark parameters and headers are components the operations reference.
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../core/errors";
import { api, json } from "./helpers";

type Media = { schema?: { $ref?: string } & Record<string, unknown>; example?: unknown };
type Parameter = { $ref?: string; name?: string; in?: string; required?: boolean };
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media>; headers?: Record<string, unknown> }>;
};
type Doc = {
  info: { license?: { name: string } };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, { type: string; description?: string }>;
    schemas: Record<string, unknown>;
    parameters: Record<string, Parameter>;
    headers: Record<string, { description?: string }>;
  };
};

describe("the OpenAPI document", async () => {
  const doc = await json<Doc>(await api("/openapi.json"));
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, ...op })));

  it("names every operation resource.verb, once", () => {
    expect(ops.filter((o) => !/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/.test(o.operationId ?? "")).map((o) => o.name)).toEqual([]);
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const id = (name: string) => ops.find((o) => o.name === name)?.operationId;
    expect(id("POST /v1/messages")).toBe("messages.send");
    expect(id("GET /v1/messages/{id}")).toBe("messages.get");
    expect(id("GET /v1/messages")).toBe("messages.list");
    expect(id("POST /v1/campaigns")).toBe("campaigns.create");
  });

  it("tags each operation with its resource, and describes every tag", () => {
    const tags = new Map(doc.tags.map((t) => [t.name, t.description]));
    for (const o of ops) expect(o.tags, o.name).toEqual([o.operationId!.split(".")[0]]);
    for (const t of new Set(ops.map((o) => o.tags![0]!))) expect(tags.get(t), t).toBeTruthy();
  });

  it("gives every operation a defined security scheme; the Mailgun webhook names its signature", () => {
    const schemes = doc.components.securitySchemes;
    for (const o of ops) {
      expect(o.security?.length, o.name).toBe(1);
      for (const name of Object.keys(o.security![0]!)) expect(schemes[name], `${o.name}: ${name}`).toBeDefined();
    }
    expect(ops.find((o) => o.name === "POST /webhooks/mailgun/{providerId}")!.security).toEqual([{ mailgunSignature: [] }]);
    expect(schemes.mailgunSignature!.description).toMatch(/HMAC-SHA256/);
    expect(doc.info.license?.name).toMatch(/UNLICENSED/);
  });
});

// Examples (issue 27): every request body shows one for each media type it takes, and every error
// answer shows the Error model with a code of the ErrorCode enum. Each is checked against its own
// schema with the small JSON Schema check below (what the document says, as a client reads it).
type Schema = Record<string, unknown>;

function problems(doc: Doc, schema: unknown, value: unknown, at = "$"): string[] {
  let s = schema as Schema;
  for (let i = 0; s && typeof s.$ref === "string" && i < 20; i++) s = (s.$ref as string).replace(/^#\//, "").split("/").reduce<any>((o, k) => o?.[k], doc);
  if (!s || typeof s !== "object") return [`${at}: unresolved schema`];
  const out: string[] = [];
  const sub = (x: unknown) => problems(doc, x, value, at);
  if (Array.isArray(s.allOf)) for (const x of s.allOf) out.push(...sub(x));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((x) => sub(x).length === 0)) out.push(`${at}: matches none of anyOf`);
  if (Array.isArray(s.oneOf) && s.oneOf.filter((x) => sub(x).length === 0).length !== 1) out.push(`${at}: does not match exactly one of oneOf`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) out.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if ("const" in s && JSON.stringify(s.const) !== JSON.stringify(value)) out.push(`${at}: not the const`);
  const typeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
  if (s.type !== undefined) {
    const types = ([] as unknown[]).concat(s.type);
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) return [...out, `${at}: ${t}, not ${types.join("|")}`];
  }
  if (typeof value === "string") {
    if (typeof s.minLength === "number" && value.length < s.minLength) out.push(`${at}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === "number" && value.length > s.maxLength) out.push(`${at}: longer than ${s.maxLength}`);
    if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(value)) out.push(`${at}: does not match ${s.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) out.push(`${at}: below ${s.minimum}`);
    if (typeof s.maximum === "number" && value > s.maximum) out.push(`${at}: above ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems) out.push(`${at}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === "number" && value.length > s.maxItems) out.push(`${at}: more than ${s.maxItems} items`);
    if (s.items) value.forEach((v, i) => out.push(...problems(doc, s.items, v, `${at}[${i}]`)));
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    for (const k of (s.required ?? []) as string[]) if (!(k in obj)) out.push(`${at}: ${k} is required`);
    for (const [k, v] of Object.entries(obj)) {
      if (k in props) out.push(...problems(doc, props[k], v, `${at}.${k}`));
      else if (s.additionalProperties === false) out.push(`${at}: ${k} is not allowed`);
      else if (s.additionalProperties && typeof s.additionalProperties === "object") out.push(...problems(doc, s.additionalProperties, v, `${at}.${k}`));
    }
  }
  return out;
}

describe("the OpenAPI document's examples and shared components", async () => {
  const doc = await json<Doc>(await api("/openapi.json"));
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, ...op })));

  it("has the check catch a bad example", () => {
    const schema = { $ref: "#/components/schemas/SendMessage" };
    expect(problems(doc, schema, { from: "noreply@clinic.example", subject: "Hi", to: ["patient@example.net"] })).toEqual([]);
    expect(problems(doc, schema, { from: "noreply@clinic.example" })).toEqual(["$: subject is required"]);
    expect(problems(doc, schema, { from: "noreply@clinic.example", subject: "Hi", cc_list: [] })).toEqual(["$: cc_list is not allowed"]);
    expect(problems(doc, { $ref: "#/components/schemas/Error" }, { error: { code: "teapot", message: "x" } })).toEqual(['$.error.code: "teapot" not in enum']);
  });

  it("gives every request body an example per media type, valid against its schema", () => {
    const bodies = ops.filter((o) => o.requestBody);
    expect(bodies.length).toBeGreaterThanOrEqual(31);
    for (const o of bodies) {
      for (const [type, media] of Object.entries(o.requestBody!.content)) {
        expect(media.example, `${o.name} ${type}`).toBeDefined();
        expect(problems(doc, media.schema, media.example), `${o.name} ${type}`).toEqual([]);
      }
    }
    const send = ops.find((o) => o.operationId === "messages.send")!.requestBody!.content["application/json"]!.example as { from: string; to: string[] };
    expect(send.from).toMatch(/@clinic\.example/);
    expect(send.to).toEqual(["patient@example.net"]);
  });

  it("gives every error answer an example of the Error model whose code is an ErrorCode of that status", () => {
    const codes = (doc.components.schemas.ErrorCode as { enum: string[] }).enum;
    expect(codes).toEqual(Object.keys(ERROR_CODES));
    let seen = 0;
    for (const o of ops) {
      for (const [status, response] of Object.entries(o.responses)) {
        if (Number(status) < 400) continue;
        const media = response.content?.["application/json"];
        expect(media?.schema, `${o.name} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
        const example = media!.example as { error: { code: ErrorCode } } | undefined;
        expect(problems(doc, media!.schema, example), `${o.name} ${status}`).toEqual([]);
        expect(codes, `${o.name} ${status}`).toContain(example!.error.code);
        // 406 (a stale Mailgun timestamp) is the one answer whose status its code does not map to.
        if (status !== "406") expect(ERROR_CODES[example!.error.code], `${o.name} ${status}`).toBe(Number(status));
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(200);
    const op = (id: string) => ops.find((o) => o.operationId === id)!;
    expect(op("messages.send").responses["409"]!.content!["application/json"]!.example).toMatchObject({ error: { code: "idempotency_conflict" } });
    expect(op("messages.send").responses["422"]!.content!["application/json"]!.example).toMatchObject({ error: { code: "no_provider" } });
    expect(op("domains.verify").responses["422"]!.content!["application/json"]!.example).toMatchObject({ error: { code: "unprocessable" } });
  });

  it("describes limit and cursor once, and every paginated list references them", () => {
    const params = doc.components.parameters;
    expect(params.PageCursor).toMatchObject({ name: "cursor", in: "query", required: false });
    expect(params.PageLimit).toMatchObject({ name: "limit", in: "query", required: false });
    const lists = ops.filter((o) => {
      const schema = o.responses["200"]?.content?.["application/json"]?.schema;
      const resolved = schema?.$ref ? (doc.components.schemas[schema.$ref.split("/").pop()!] as Schema) : schema;
      return !!resolved && "next_cursor" in ((resolved.properties ?? {}) as object);
    });
    expect(lists.map((o) => o.operationId)).toEqual(expect.arrayContaining(["messages.list", "campaigns.list", "recipients.list", "suppressions.list", "lists.list", "lists.listMembers", "auditLogs.list", "webhooks.listEvents"]));
    for (const o of lists) {
      const refs = (o.parameters ?? []).map((p) => p.$ref);
      expect(refs, o.name).toContain("#/components/parameters/PageCursor");
      expect(refs.filter((r) => r?.startsWith("#/components/parameters/PageLimit")), o.name).toHaveLength(1);
      expect((o.parameters ?? []).filter((p) => p.name === "limit" || p.name === "cursor"), `${o.name}: inline page parameters`).toEqual([]);
    }
    for (const [id, p] of Object.entries(params)) if (id.startsWith("PageLimit")) expect(p, id).toMatchObject({ name: "limit", in: "query" });
  });

  it("references the Idempotency-Key and Relay-Bookmark headers from components", () => {
    const { parameters, headers } = doc.components;
    expect(parameters.IdempotencyKey).toMatchObject({ name: "idempotency-key", in: "header", required: false });
    expect(parameters.RelayBookmark).toMatchObject({ name: "Relay-Bookmark", in: "header", required: false });
    expect(headers.RelayBookmark!.description).toMatch(/bookmark/i);
    for (const id of ["messages.send", "messages.sendBatch"]) {
      const o = ops.find((x) => x.operationId === id)!;
      expect(o.parameters!.map((p) => p.$ref), id).toContain("#/components/parameters/IdempotencyKey");
    }
    for (const o of ops) {
      expect(o.parameters?.map((p) => p.$ref), o.name).toContain("#/components/parameters/RelayBookmark");
      for (const [status, response] of Object.entries(o.responses)) expect(response.headers?.["Relay-Bookmark"], `${o.name} ${status}`).toEqual({ $ref: "#/components/headers/RelayBookmark" });
    }
  });
});
