// /v1/campaigns: create, list, read (totals and per-day counters), rename or change status.
// Messages join a campaign with `campaign_id` at send time (workers/accept.ts); the counters are
// kept by the statements that change recipient statuses (db/campaigns.ts).
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { assertStatusChange, CAMPAIGN_STATUSES, zeroCounts, type CampaignCounts } from "../../core/campaigns";
import { notFound } from "../../core/errors";
import { newId } from "../../core/ids";
import type { CampaignRow } from "../../db/store/campaigns";
import type { AppEnv } from "./context";
import { pageQuery, pageSchema, readPage, timeIdCursor } from "./pagination";
import { route } from "./route";
import { errorResponses, errorSchema, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const campaignsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const name = z.string().trim().min(1).max(200).regex(/^[^\r\n\0]*$/, "must not contain line breaks");
const status = z.enum(CAMPAIGN_STATUSES);

const countsSchema = z
  .object({
    queued: z.number().openapi({ description: "Recipients accepted for delivery" }),
    sent: z.number().openapi({ description: "Recipients a provider accepted" }),
    delivered: z.number().openapi({ description: "Recipients a provider reported delivered" }),
    bounced: z.number(),
    complained: z.number(),
    failed: z.number().openapi({ description: "Recipients that failed permanently or gave up" }),
    suppressed: z.number().openapi({ description: "Recipients dropped at accept (bounced, complained or unsubscribed before)" }),
  })
  .openapi("CampaignCounts");

const campaignSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status,
    stats: countsSchema.openapi({ description: "All-time totals; each recipient counts once per counter it entered" }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Campaign");

const detailSchema = campaignSchema
  .extend({ days: z.array(countsSchema.extend({ day: z.string().openapi({ description: "UTC day, YYYY-MM-DD" }) })) })
  .openapi("CampaignDetail");

const view = (c: CampaignRow, stats: CampaignCounts | undefined) => ({
  id: c.id,
  name: c.name,
  status: c.status,
  stats: stats ?? zeroCounts(),
  created_at: iso(c.createdAt)!,
  updated_at: iso(c.updatedAt)!,
});

const cursor = timeIdCursor("createdAt", "cmp");

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a UTC day, YYYY-MM-DD");

campaignsApp.openapi(
  route({
    method: "post",
    path: "/campaigns",
    operationId: "campaigns.create",
    summary: "Create a campaign; messages join it with campaign_id (only while it is active)",
    auth: "admin",
    request: {
      body: {
        content: { "application/json": { schema: z.object({ name, status: z.enum(["draft", "active"]).default("active") }).strict().openapi("CampaignInput"), example: { name: "Flu vaccination reminders 2026", status: "draft" } } },
        required: true,
      },
    },
    responses: { 201: { description: "Created", content: { "application/json": { schema: campaignSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const input = c.req.valid("json");
    const now = Date.now();
    const row = await c.var.store.campaigns.createCampaign(ws, { id: newId("cmp"), name: input.name, status: input.status, at: now });
    return c.json(view(row, undefined), 201);
  },
);

campaignsApp.openapi(
  route({
    method: "get",
    path: "/campaigns",
    operationId: "campaigns.list",
    summary: "List campaigns with their totals, newest first",
    auth: "read",
    request: {
      query: z.object({ status: status.optional() }).extend(pageQuery().shape),
    },
    responses: {
      200: {
        description: "A page of campaigns",
        content: { "application/json": { schema: pageSchema(campaignSchema) } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const ws = c.var.workspaceId;
    const { page, next_cursor } = await readPage(q, cursor, (before, limit) =>
      c.var.store.campaigns.listCampaigns(ws, { ...(q.status ? { status: q.status } : {}), ...(before ? { before } : {}), limit }),
    );
    const totals = await c.var.store.campaigns.campaignTotals(ws, page.map((r) => r.id));
    return c.json({ data: page.map((r) => view(r, totals.get(r.id))), next_cursor }, 200);
  },
);

campaignsApp.openapi(
  route({
    method: "get",
    path: "/campaigns/{id}",
    operationId: "campaigns.get",
    summary: "A campaign's totals and its counters per UTC day (oldest first; `since`/`until` bound the days)",
    auth: "read",
    request: { params: idParam, query: z.object({ since: day.optional(), until: day.optional() }) },
    responses: { 200: { description: "The campaign", content: { "application/json": { schema: detailSchema } } }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const q = c.req.valid("query");
    const found = await c.var.store.campaigns.campaignWithStats(ws, c.req.valid("param").id, { ...(q.since ? { since: q.since } : {}), ...(q.until ? { until: q.until } : {}) });
    if (!found) throw notFound("campaign");
    return c.json(
      {
        ...view(found.campaign, found.totals),
        days: found.days.map((d) => ({
          day: d.day,
          queued: d.queued,
          sent: d.sent,
          delivered: d.delivered,
          bounced: d.bounced,
          complained: d.complained,
          failed: d.failed,
          suppressed: d.suppressed,
        })),
      },
      200,
    );
  },
);

campaignsApp.openapi(
  route({
    method: "patch",
    path: "/campaigns/{id}",
    operationId: "campaigns.update",
    summary: "Rename a campaign or change its status (draft, active, completed, cancelled; cancelled is final). Only active campaigns take new messages; messages already accepted are still delivered and counted.",
    auth: "admin",
    request: {
      params: idParam,
      body: {
        content: {
          "application/json": {
            schema: z
              .object({ name: name.optional(), status: status.optional() })
              .strict()
              .refine((v) => v.name !== undefined || v.status !== undefined, "name or status is required")
              .openapi("CampaignUpdate"),
            example: { status: "active" },
          },
        },
        required: true,
      },
    },
    responses: {
      200: { description: "Updated", content: { "application/json": { schema: campaignSchema } } },
      409: { description: "A cancelled campaign cannot be reopened", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const input = c.req.valid("json");
    const campaigns = c.var.store.campaigns;
    const current = await campaigns.campaign(ws, id);
    if (!current) throw notFound("campaign");
    if (input.status) assertStatusChange(current.status, input.status);
    const row = await campaigns.updateCampaign(ws, id, { ...(input.name !== undefined ? { name: input.name } : {}), ...(input.status ? { status: input.status } : {}) }, Date.now());
    if (!row) throw notFound("campaign");
    return c.json(view(row, (await campaigns.campaignTotals(ws, [id])).get(id)), 200);
  },
);
