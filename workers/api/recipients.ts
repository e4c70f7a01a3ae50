// /v1/recipients and /v1/suppressions: the workspace's recipient profiles. Names and custom
// fields are encrypted at rest (AAD binds each value to its workspace, recipient and column);
// delete really deletes the row and its events; suppression is managed per recipient.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { parseMailbox } from "../../core/address";
import { readConfig } from "../../core/config";
import { encryptText, loadKeyring, type Keyring } from "../../core/crypto";
import { notFound, RelayError } from "../../core/errors";
import { newId } from "../../core/ids";
import {
  deleteRecipient,
  getRecipient,
  listRecipients,
  openRecipient,
  recipientAad,
  recipientsByEmails,
  setRecipientStatus,
  type RecipientRow,
  type RecipientWrite,
} from "../../db/recipients";
import type { AppEnv } from "./context";
import { pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { route } from "./route";
import { errorResponses, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";
import { upsertRecipients } from "../../db/recipients";

export const MAX_IMPORT = 10_000;
const STATUSES = ["active", "bounced", "complained", "unsubscribed"] as const;
const SUPPRESSED = ["bounced", "complained", "unsubscribed"] as const;

/** Field names double as template variables, so they are identifiers. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const name = z.string().max(200).regex(/^[^\r\n\0]*$/, "must not contain line breaks");
const fields = z
  .record(z.string().regex(FIELD_NAME, "field names are letters, digits and _"), z.string().max(2000))
  .refine((r) => Object.keys(r).length <= 100, "at most 100 fields");

const recipientInput = z
  .object({
    email: z.string().min(3).max(320),
    first_name: name.nullable().optional(),
    last_name: name.nullable().optional(),
    fields: fields.optional().openapi({ description: "Custom fields; replaces the stored set when given" }),
    metadata: z.record(z.string(), z.string().max(500)).optional(),
  })
  .strict()
  .openapi("RecipientInput");

const updateInput = recipientInput.omit({ email: true }).strict().openapi("RecipientUpdate");

const recipientSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    status: z.enum(STATUSES),
    bounce_count: z.number(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    fields: z.record(z.string(), z.string()),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Recipient");

const rowResultSchema = z
  .object({
    index: z.number(),
    email: z.string().nullable(),
    status: z.enum(["created", "updated", "error"]),
    id: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi("RecipientImportRow");

const ring = (env: Env) => loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);

async function view(keys: Keyring, r: RecipientRow) {
  const d = await openRecipient(keys, r);
  return {
    id: r.id,
    email: r.email,
    status: r.status,
    bounce_count: r.bounceCount,
    first_name: d.firstName,
    last_name: d.lastName,
    fields: d.fields,
    metadata: r.metadata,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}

type Input = z.infer<typeof updateInput>;

async function seal(keys: Keyring, ws: string, id: string, input: Input): Promise<Omit<RecipientWrite, "id" | "workspaceId" | "email">> {
  const out: Omit<RecipientWrite, "id" | "workspaceId" | "email"> = {};
  if (input.first_name !== undefined) out.firstNameEnc = input.first_name ? await encryptText(keys, input.first_name, recipientAad(ws, id, "first_name")) : null;
  if (input.last_name !== undefined) out.lastNameEnc = input.last_name ? await encryptText(keys, input.last_name, recipientAad(ws, id, "last_name")) : null;
  if (input.fields !== undefined) out.fieldsEnc = Object.keys(input.fields).length ? await encryptText(keys, JSON.stringify(input.fields), recipientAad(ws, id, "fields")) : null;
  if (input.metadata !== undefined) out.metadata = input.metadata;
  return out;
}

type RowResult = z.infer<typeof rowResultSchema>;

/** Validates, encrypts and upserts rows; one result per input row, in order. */
async function upsertMany(env: Env, db: AppEnv["Variables"]["db"], ws: string, rows: unknown[]): Promise<RowResult[]> {
  const keys = await ring(env);
  const results: RowResult[] = [];
  const valid: { index: number; email: string; input: Input }[] = [];
  const seen = new Map<string, number>();
  rows.forEach((raw, index) => {
    const parsed = recipientInput.safeParse(raw);
    const email = raw && typeof raw === "object" && typeof (raw as { email?: unknown }).email === "string" ? (raw as { email: string }).email : null;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      results[index] = { index, email, status: "error", id: null, error: `${issue.path.join(".") || "row"}: ${issue.message}` };
      return;
    }
    const mb = parseMailbox(parsed.data.email);
    if (!mb || mb.name) {
      results[index] = { index, email, status: "error", id: null, error: "email: not a valid address" };
      return;
    }
    const key = mb.address.toLowerCase();
    if (seen.has(key)) {
      results[index] = { index, email: mb.address, status: "error", id: null, error: `email: duplicate of row ${seen.get(key)}` };
      return;
    }
    seen.set(key, index);
    const { email: _e, ...rest } = parsed.data;
    valid.push({ index, email: mb.address, input: rest });
  });
  const existing = new Map((await recipientsByEmails(db, ws, valid.map((v) => v.email))).map((r) => [r.email.toLowerCase(), r]));
  const writes: RecipientWrite[] = [];
  for (const v of valid) {
    const prior = existing.get(v.email.toLowerCase());
    const id = prior?.id ?? newId("rcp");
    writes.push({ id, workspaceId: ws, email: prior?.email ?? v.email, ...(await seal(keys, ws, id, v.input)) });
    results[v.index] = { index: v.index, email: prior?.email ?? v.email, status: prior ? "updated" : "created", id, error: null };
  }
  await upsertRecipients(db, writes, Date.now());
  return results;
}

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      field = "";
      rows.push(row);
      row = [];
      if (ch === "\r" && src[i + 1] === "\n") i++;
    } else field += ch;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** CSV with a header row `email,first_name,last_name,<custom fields...>` to import rows. */
export function csvToRows(text: string): unknown[] {
  const [header, ...lines] = parseCsv(text);
  if (!header) throw new RelayError("validation_error", "csv: empty");
  const cols = header.map((h) => h.trim());
  if (!cols.includes("email")) throw new RelayError("validation_error", "csv: the header row needs an email column");
  const bad = cols.find((c) => !FIELD_NAME.test(c));
  if (bad !== undefined) throw new RelayError("validation_error", `csv: column '${bad}' is not a valid field name`);
  return lines.map((cells) => {
    const row: Record<string, unknown> = {};
    const custom: Record<string, string> = {};
    cols.forEach((c, j) => {
      const v = cells[j] ?? "";
      if (c === "email") row.email = v.trim();
      else if (c === "first_name" || c === "last_name") {
        if (v !== "") row[c] = v;
      } else if (v !== "") custom[c] = v;
    });
    if (Object.keys(custom).length) row.fields = custom;
    return row;
  });
}

const cursor = timeIdCursor("createdAt", "rcp");
const recipientPage = pageSchema(recipientSchema);

export const recipientsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

recipientsApp.openapi(
  route({
    method: "post",
    path: "/recipients",
    summary: "Create or update one recipient (by address)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: recipientInput } }, required: true } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: recipientSchema } } },
      200: { description: "Updated", content: { "application/json": { schema: recipientSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const [result] = await upsertMany(c.env, c.var.db, ws, [c.req.valid("json")]);
    if (result!.status === "error") throw new RelayError("validation_error", result!.error!);
    const row = (await getRecipient(c.var.db, ws, result!.id!))!;
    return c.json(await view(await ring(c.env), row), result!.status === "created" ? 201 : 200);
  },
);

recipientsApp.openapi(
  route({
    method: "post",
    path: "/recipients/import",
    summary: `Import up to ${MAX_IMPORT} recipients: a JSON array, or CSV (text/csv) with a header row email,first_name,last_name,<fields...>`,
    auth: "admin",
    request: {
      body: {
        content: {
          "application/json": { schema: z.array(z.unknown()).max(MAX_IMPORT).openapi({ description: "RecipientInput objects" }) },
          "text/csv": { schema: z.string() },
        },
        required: false,
      },
    },
    responses: {
      200: {
        description: "One result per row, in order",
        content: {
          "application/json": {
            schema: z.object({ created: z.number(), updated: z.number(), failed: z.number(), results: z.array(rowResultSchema) }),
          },
        },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    const rows = type.startsWith("text/csv") ? csvToRows(await c.req.text()) : (c.req.valid("json") as unknown[] | undefined);
    if (!Array.isArray(rows)) throw new RelayError("validation_error", "body: a JSON array of recipients or CSV");
    if (rows.length > MAX_IMPORT) throw new RelayError("validation_error", `at most ${MAX_IMPORT} rows per call`);
    const results = await upsertMany(c.env, c.var.db, ws, rows);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    return c.json({ created: count("created"), updated: count("updated"), failed: count("error"), results }, 200);
  },
);

recipientsApp.openapi(
  route({
    method: "get",
    path: "/recipients",
    summary: "List recipients, newest first",
    auth: "read",
    request: { query: pageQuery().extend({ status: z.enum(STATUSES).optional() }) },
    responses: { 200: { description: "A page of recipients", content: { "application/json": { schema: recipientPage } } }, ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, cursor, (before, limit) =>
      listRecipients(c.var.db, ws, { ...(q.status ? { status: q.status } : {}), ...(before ? { before } : {}), limit }),
    );
    const keys = await ring(c.env);
    return c.json({ data: await Promise.all(page.map((r) => view(keys, r))), next_cursor }, 200);
  },
);

recipientsApp.openapi(
  route({
    method: "get",
    path: "/suppressions",
    summary: "List suppressed recipients (bounced, complained, unsubscribed), newest first",
    auth: "read",
    request: { query: pageQuery().extend({ status: z.enum(SUPPRESSED).optional() }) },
    responses: { 200: { description: "A page of suppressed recipients", content: { "application/json": { schema: recipientPage } } }, ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, cursor, (before, limit) =>
      listRecipients(c.var.db, ws, { ...(q.status ? { status: q.status } : { suppressedOnly: true }), ...(before ? { before } : {}), limit }),
    );
    const keys = await ring(c.env);
    return c.json({ data: await Promise.all(page.map((r) => view(keys, r))), next_cursor }, 200);
  },
);

recipientsApp.openapi(
  route({
    method: "get",
    path: "/recipients/{id}",
    summary: "Read one recipient",
    auth: "read",
    request: { params: idParam },
    responses: { 200: { description: "The recipient", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await getRecipient(c.var.db, ws, c.req.valid("param").id);
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);

recipientsApp.openapi(
  route({
    method: "patch",
    path: "/recipients/{id}",
    summary: "Update a recipient's name, fields or metadata (null clears a name)",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: updateInput } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await getRecipient(c.var.db, ws, c.req.valid("param").id);
    if (!row) throw notFound("recipient");
    const keys = await ring(c.env);
    await upsertRecipients(c.var.db, [{ id: row.id, workspaceId: ws, email: row.email, ...(await seal(keys, ws, row.id, c.req.valid("json"))) }], Date.now());
    return c.json(await view(keys, (await getRecipient(c.var.db, ws, row.id))!), 200);
  },
);

recipientsApp.openapi(
  route({
    method: "delete",
    path: "/recipients/{id}",
    summary: "Delete a recipient: the profile, its events and list memberships are removed",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    if (!(await deleteRecipient(c.var.db, ws, c.req.valid("param").id))) throw notFound("recipient");
    return c.body(null, 204);
  },
);

recipientsApp.openapi(
  route({
    method: "put",
    path: "/recipients/{id}/suppression",
    summary: "Suppress a recipient (mail to the address is dropped at accept)",
    auth: "admin",
    request: {
      params: idParam,
      body: { content: { "application/json": { schema: z.object({ status: z.enum(SUPPRESSED) }).strict().openapi("Suppression") } }, required: true },
    },
    responses: { 200: { description: "Suppressed", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await setRecipientStatus(c.var.db, ws, c.req.valid("param").id, c.req.valid("json").status, Date.now(), newId("evt"));
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);

recipientsApp.openapi(
  route({
    method: "delete",
    path: "/recipients/{id}/suppression",
    summary: "Reactivate a suppressed recipient",
    auth: "admin",
    request: { params: idParam },
    responses: { 200: { description: "Active again", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await setRecipientStatus(c.var.db, ws, c.req.valid("param").id, "active", Date.now(), newId("evt"));
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);
