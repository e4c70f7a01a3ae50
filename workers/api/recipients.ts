// /v1/recipients: the workspace's recipient profiles: upsert one by address, import many (JSON
// or CSV), list, read, update, and delete (which really deletes the row, its events and its
// list memberships). Suppression is workers/api/suppressions.ts.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { notFound, RelayError } from "../../core/errors";
import type { AppEnv } from "./context";
import { pageQuery, readPage } from "./pagination";
import { csvToRows } from "./recipient-csv";
import { recipientCursor, recipientInput, recipientPage, recipientSchema, ring, rowResultSchema, seal, STATUSES, updateInput, upsertMany, view } from "./recipient-records";
import { route } from "./route";
import { errorResponses, idParam, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const MAX_IMPORT = 10_000;

export const recipientsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

recipientsApp.openapi(
  route({
    method: "post",
    path: "/recipients",
    operationId: "recipients.upsert",
    summary: "Create or update one recipient (by address)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: recipientInput, example: { email: "patient@example.net", first_name: "Ana", last_name: "Silva", fields: { preferred_language: "pt" }, metadata: { patient_ref: "P-4821" } } } }, required: true } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: recipientSchema } } },
      200: { description: "Updated", content: { "application/json": { schema: recipientSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const [result] = await upsertMany(c.env, c.var.store.recipients, ws, [c.req.valid("json")]);
    if (result!.status === "error") throw new RelayError("validation_error", result!.error!);
    const row = (await c.var.store.recipients.recipient(ws, result!.id!))!;
    return c.json(await view(await ring(c.env), row), result!.status === "created" ? 201 : 200);
  },
);

recipientsApp.openapi(
  route({
    method: "post",
    path: "/recipients/import",
    operationId: "recipients.import",
    summary: `Import up to ${MAX_IMPORT} recipients: a JSON array, or CSV (text/csv) with a header row email,first_name,last_name,<fields...>`,
    auth: "admin",
    request: {
      body: {
        content: {
          "application/json": { schema: z.array(z.unknown()).max(MAX_IMPORT).openapi({ description: "RecipientInput objects" }),
            example: [
              { email: "patient@example.net", first_name: "Ana", last_name: "Silva" },
              { email: "guardian@example.net", first_name: "João", metadata: { patient_ref: "P-4821" } },
            ],
          },
          "text/csv": { schema: z.string(), example: "email,first_name,last_name\npatient@example.net,Ana,Silva\nguardian@example.net,João,Silva\n" },
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
    const results = await upsertMany(c.env, c.var.store.recipients, ws, rows);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    return c.json({ created: count("created"), updated: count("updated"), failed: count("error"), results }, 200);
  },
);

recipientsApp.openapi(
  route({
    method: "get",
    path: "/recipients",
    operationId: "recipients.list",
    summary: "List recipients, newest first",
    auth: "read",
    request: { query: pageQuery().extend({ status: z.enum(STATUSES).optional() }) },
    responses: { 200: { description: "A page of recipients", content: { "application/json": { schema: recipientPage } } }, ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, recipientCursor, (before, limit) =>
      c.var.store.recipients.listRecipients(ws, { ...(q.status ? { status: q.status } : {}), ...(before ? { before } : {}), limit }),
    );
    const keys = await ring(c.env);
    return c.json({ data: await Promise.all(page.map((r) => view(keys, r))), next_cursor }, 200);
  },
);

recipientsApp.openapi(
  route({
    method: "get",
    path: "/recipients/{id}",
    operationId: "recipients.get",
    summary: "Read one recipient",
    auth: "read",
    request: { params: idParam },
    responses: { 200: { description: "The recipient", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await c.var.store.recipients.recipient(ws, c.req.valid("param").id);
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);

recipientsApp.openapi(
  route({
    method: "patch",
    path: "/recipients/{id}",
    operationId: "recipients.update",
    summary: "Update a recipient's name, fields or metadata (null clears a name)",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: updateInput, example: { first_name: "Ana", fields: { preferred_language: "en" } } } }, required: true } },
    responses: { 200: { description: "Updated", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const recipients = c.var.store.recipients;
    const row = await recipients.recipient(ws, c.req.valid("param").id);
    if (!row) throw notFound("recipient");
    const keys = await ring(c.env);
    await recipients.upsertRecipients(ws, [{ id: row.id, email: row.email, ...(await seal(keys, ws, row.id, c.req.valid("json"))) }], Date.now());
    return c.json(await view(keys, (await recipients.recipient(ws, row.id))!), 200);
  },
);

recipientsApp.openapi(
  route({
    method: "delete",
    path: "/recipients/{id}",
    operationId: "recipients.delete",
    summary: "Delete a recipient: the profile, its events and list memberships are removed",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    if (!(await c.var.store.recipients.deleteRecipient(ws, c.req.valid("param").id))) throw notFound("recipient");
    return c.body(null, 204);
  },
);
