// /v1/lists: named recipient lists. Members are the workspace's recipient records, added by id
// or by address (a record is created for an unknown address), up to 10,000 per call with one
// result per row. Deleting a recipient removes it from every list; deleting a list keeps the
// recipients.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { parseMailbox } from "../../core/address";
import { notFound, RelayError } from "../../core/errors";
import { newId } from "../../core/ids";
import type { RecipientListRow } from "../../db/store/recipients";
import type { AppEnv, WorkspaceEnv } from "./context";
import { idCursor, pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { route } from "./route";
import { errorResponses, errorSchema, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const MAX_MEMBERS_PER_CALL = 10_000;

export const recipientListsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const name = z.string().trim().min(1).max(200).regex(/^[^\r\n\0]*$/, "must not contain line breaks");
const listInput = z.object({ name }).strict().openapi("RecipientListInput");

const listSchema = z
  .object({ id: z.string(), name: z.string(), member_count: z.number(), created_at: z.string() })
  .openapi("RecipientList");

const memberSchema = z
  .object({
    recipient_id: z.string(),
    email: z.string(),
    status: z.string().openapi({ description: "The recipient's status (active, bounced, complained, unsubscribed)" }),
    added_at: z.string(),
  })
  .openapi("RecipientListMember");

const memberInput = z.union([
  z.string().openapi({ description: "An address" }),
  z.object({ email: z.string().max(320) }).strict(),
  z.object({ recipient_id: z.string().max(64) }).strict(),
]);

const memberResultSchema = z
  .object({
    index: z.number(),
    status: z.enum(["added", "already_member", "error"]),
    recipient_id: z.string().nullable(),
    email: z.string().nullable(),
    created: z.boolean().openapi({ description: "A recipient record was created for the address" }),
    error: z.string().nullable(),
  })
  .openapi("RecipientListMemberResult");

const listView = (l: RecipientListRow, count: number) => ({ id: l.id, name: l.name, member_count: count, created_at: iso(l.createdAt)! });

const listCursor = timeIdCursor("createdAt", "lst");
const memberCursor = idCursor("rcp", (m: { recipientId: string }) => m.recipientId);

async function listOr404(c: { var: WorkspaceEnv["Variables"] }, id: string): Promise<RecipientListRow> {
  const row = await c.var.store.recipients.list(c.var.workspaceId, id);
  if (!row) throw notFound("list");
  return row;
}

recipientListsApp.openapi(
  route({
    method: "post",
    path: "/lists",
    operationId: "lists.create",
    summary: "Create a recipient list (names are unique in the workspace)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: listInput, example: { name: "Flu vaccination 2026" } } }, required: true } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: listSchema } } },
      409: { description: "A list with this name exists", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const { name } = c.req.valid("json");
    const created = await c.var.store.recipients.createList(ws, { id: newId("lst"), name, createdAt: Date.now() });
    if (created.status === "duplicate") throw new RelayError("conflict", `a list named '${name}' exists`);
    return c.json(listView(created.list, 0), 201);
  },
);

recipientListsApp.openapi(
  route({
    method: "get",
    path: "/lists",
    operationId: "lists.list",
    summary: "List recipient lists, newest first",
    auth: "read",
    request: { query: pageQuery() },
    responses: {
      200: { description: "A page of lists", content: { "application/json": { schema: pageSchema(listSchema) } } },
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, listCursor, (before, limit) => c.var.store.recipients.listLists(ws, { ...(before ? { before } : {}), limit }));
    const counts = await c.var.store.recipients.memberCounts(ws, page.map((l) => l.id));
    return c.json({ data: page.map((l) => listView(l, counts.get(l.id) ?? 0)), next_cursor }, 200);
  },
);

recipientListsApp.openapi(
  route({
    method: "get",
    path: "/lists/{id}",
    operationId: "lists.get",
    summary: "Read a list",
    auth: "read",
    request: { params: idParam },
    responses: { 200: { description: "The list", content: { "application/json": { schema: listSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const row = await listOr404(c, c.req.valid("param").id);
    const counts = await c.var.store.recipients.memberCounts(row.workspaceId, [row.id]);
    return c.json(listView(row, counts.get(row.id) ?? 0), 200);
  },
);

recipientListsApp.openapi(
  route({
    method: "patch",
    path: "/lists/{id}",
    operationId: "lists.update",
    summary: "Rename a list",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: listInput, example: { name: "Flu vaccination 2026 (adults)" } } }, required: true } },
    responses: {
      200: { description: "Renamed", content: { "application/json": { schema: listSchema } } },
      409: { description: "A list with this name exists", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const { name } = c.req.valid("json");
    const renamed = await c.var.store.recipients.renameList(ws, c.req.valid("param").id, name);
    if (!renamed) throw notFound("list");
    if (renamed.status === "duplicate") throw new RelayError("conflict", `a list named '${name}' exists`);
    const row = renamed.list;
    const counts = await c.var.store.recipients.memberCounts(ws, [row.id]);
    return c.json(listView(row, counts.get(row.id) ?? 0), 200);
  },
);

recipientListsApp.openapi(
  route({
    method: "delete",
    path: "/lists/{id}",
    operationId: "lists.delete",
    summary: "Delete a list and its memberships (the recipients stay)",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    if (!(await c.var.store.recipients.deleteList(c.var.workspaceId, c.req.valid("param").id))) throw notFound("list");
    return c.body(null, 204);
  },
);

recipientListsApp.openapi(
  route({
    method: "post",
    path: "/lists/{id}/members",
    operationId: "lists.addMembers",
    summary: `Add up to ${MAX_MEMBERS_PER_CALL} members by recipient id or address (a recipient record is created for an unknown address); one result per row, in order`,
    auth: "admin",
    request: {
      params: idParam,
      body: {
        content: {
          "application/json": {
            schema: z
              .object({
                members: z
                  .array(z.unknown())
                  .min(1)
                  .max(MAX_MEMBERS_PER_CALL)
                  .openapi({ description: 'Each an address, {"email": …} or {"recipient_id": …}; a bad row is reported in its result, the rest still go' }),
              })
              .strict()
              .openapi("RecipientListMembersInput"),
            example: { members: ["patient@example.net", { email: "guardian@example.net" }, { recipient_id: "rcp_01JD4Z9Q8X2R5K7M3P" }] },
          },
        },
        required: true,
      },
    },
    responses: {
      200: {
        description: "One result per row",
        content: {
          "application/json": {
            schema: z.object({ added: z.number(), already_member: z.number(), failed: z.number(), created: z.number(), results: z.array(memberResultSchema) }),
          },
        },
      },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const listId = c.req.valid("param").id;
    const rows = c.req.valid("json").members;
    type Result = z.infer<typeof memberResultSchema>;
    const results: Result[] = [];
    const wanted: { index: number; email?: string; id?: string }[] = [];
    const seen = new Map<string, number>();
    rows.forEach((raw, index) => {
      const fail = (email: string | null, error: string) => (results[index] = { index, status: "error", recipient_id: null, email, created: false, error });
      const parsed = memberInput.safeParse(raw);
      if (!parsed.success) return fail(null, 'row: an address, {"email"} or {"recipient_id"}');
      const v = parsed.data;
      if (typeof v === "object" && "recipient_id" in v) {
        const key = `id:${v.recipient_id}`;
        if (seen.has(key)) return fail(null, `recipient_id: duplicate of row ${seen.get(key)}`);
        seen.set(key, index);
        wanted.push({ index, id: v.recipient_id });
        return;
      }
      const given = typeof v === "string" ? v : v.email;
      const mb = parseMailbox(given);
      if (!mb || mb.name) return fail(given, "email: not a valid address");
      const key = `email:${mb.address.toLowerCase()}`;
      if (seen.has(key)) return fail(mb.address, `email: duplicate of row ${seen.get(key)}`);
      seen.set(key, index);
      wanted.push({ index, email: mb.address });
    });

    const emails = wanted.flatMap((w) => (w.email ? [w.email] : []));
    const ids = wanted.flatMap((w) => (w.id ? [w.id] : []));
    const found = await c.var.store.recipients.lookupMembers(ws, listId, emails, ids);
    if (!found) throw notFound("list");

    const recipientIds: string[] = [];
    const newRecipients: { id: string; email: string }[] = [];
    for (const w of wanted) {
      if (w.id) {
        if (!found.ids.has(w.id)) {
          results[w.index] = { index: w.index, status: "error", recipient_id: w.id, email: null, created: false, error: "recipient_id: no such recipient in this workspace" };
          continue;
        }
        const member = found.members.has(w.id);
        if (!member) recipientIds.push(w.id);
        results[w.index] = { index: w.index, status: member ? "already_member" : "added", recipient_id: w.id, email: null, created: false, error: null };
        continue;
      }
      const existing = found.byEmail.get(w.email!.toLowerCase());
      if (existing) {
        const member = found.members.has(existing.id);
        if (!member) recipientIds.push(existing.id);
        results[w.index] = { index: w.index, status: member ? "already_member" : "added", recipient_id: existing.id, email: existing.email, created: false, error: null };
      } else {
        const id = newId("rcp");
        newRecipients.push({ id, email: w.email! });
        results[w.index] = { index: w.index, status: "added", recipient_id: id, email: w.email!, created: true, error: null };
      }
    }
    await c.var.store.recipients.addMembers(ws, listId, { recipientIds, newRecipients }, Date.now());
    const count = (s: Result["status"]) => results.filter((r) => r.status === s).length;
    return c.json({ added: count("added"), already_member: count("already_member"), failed: count("error"), created: newRecipients.length, results }, 200);
  },
);

recipientListsApp.openapi(
  route({
    method: "get",
    path: "/lists/{id}/members",
    operationId: "lists.listMembers",
    summary: "A page of the list's members (ordered by recipient id)",
    auth: "read",
    request: { params: idParam, query: pageQuery() },
    responses: {
      200: { description: "A page of members", content: { "application/json": { schema: pageSchema(memberSchema) } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const list = await listOr404(c, c.req.valid("param").id);
    const { page, next_cursor } = await readPage(q, memberCursor, (after, limit) =>
      c.var.store.recipients.listMembers(list.workspaceId, list.id, { ...(after ? { after } : {}), limit }),
    );
    return c.json({ data: page.map((m) => ({ recipient_id: m.recipientId, email: m.email, status: m.status, added_at: iso(m.addedAt)! })), next_cursor }, 200);
  },
);

recipientListsApp.openapi(
  route({
    method: "delete",
    path: "/lists/{id}/members/{recipient_id}",
    operationId: "lists.removeMember",
    summary: "Remove a member from the list (the recipient stays)",
    auth: "admin",
    request: {
      params: z.object({
        id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }),
        recipient_id: z.string().min(1).max(64).openapi({ param: { name: "recipient_id", in: "path" } }),
      }),
    },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const { id, recipient_id } = c.req.valid("param");
    const list = await listOr404(c, id);
    if (!(await c.var.store.recipients.removeMember(list.workspaceId, list.id, recipient_id))) throw notFound("member");
    return c.body(null, 204);
  },
);
