// /v1/suppressions and /v1/recipients/{id}/suppression: who mail is not sent to. A suppressed
// recipient's mail is dropped at accept; bounces and complaints suppress on their own, these
// routes list suppressions and set or lift one by hand.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { notFound } from "../../core/errors";
import { newId } from "../../core/ids";
import type { AppEnv } from "./context";
import { pageQuery, readPage } from "./pagination";
import { recipientCursor, recipientPage, recipientSchema, ring, SUPPRESSED, view } from "./recipient-records";
import { route } from "./route";
import { errorResponses, idParam, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const suppressionsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

suppressionsApp.openapi(
  route({
    method: "get",
    path: "/suppressions",
    operationId: "suppressions.list",
    summary: "List suppressed recipients (bounced, complained, unsubscribed), newest first",
    auth: "read",
    request: { query: pageQuery().extend({ status: z.enum(SUPPRESSED).optional() }) },
    responses: { 200: { description: "A page of suppressed recipients", content: { "application/json": { schema: recipientPage } } }, ...errorResponses },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, recipientCursor, (before, limit) =>
      c.var.store.recipients.listRecipients(ws, { ...(q.status ? { status: q.status } : { suppressedOnly: true }), ...(before ? { before } : {}), limit }),
    );
    const keys = await ring(c.env);
    return c.json({ data: await Promise.all(page.map((r) => view(keys, r))), next_cursor }, 200);
  },
);

suppressionsApp.openapi(
  route({
    method: "put",
    path: "/recipients/{id}/suppression",
    operationId: "suppressions.suppress",
    summary: "Suppress a recipient (mail to the address is dropped at accept)",
    auth: "admin",
    request: {
      params: idParam,
      body: { content: { "application/json": { schema: z.object({ status: z.enum(SUPPRESSED) }).strict().openapi("Suppression"), example: { status: "unsubscribed" } } }, required: true },
    },
    responses: { 200: { description: "Suppressed", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await c.var.store.recipients.setRecipientStatus(ws, c.req.valid("param").id, c.req.valid("json").status, Date.now(), newId("evt"));
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);

suppressionsApp.openapi(
  route({
    method: "delete",
    path: "/recipients/{id}/suppression",
    operationId: "suppressions.reactivate",
    summary: "Reactivate a suppressed recipient",
    auth: "admin",
    request: { params: idParam },
    responses: { 200: { description: "Active again", content: { "application/json": { schema: recipientSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await c.var.store.recipients.setRecipientStatus(ws, c.req.valid("param").id, "active", Date.now(), newId("evt"));
    if (!row) throw notFound("recipient");
    return c.json(await view(await ring(c.env), row), 200);
  },
);
