// Provider webhooks in. Mailgun posts delivery events to /webhooks/mailgun/{providerId}; each
// is signed with the provider's webhook signing key (HMAC-SHA256 of timestamp + token). We
// check the signature in constant time, refuse timestamps more than 5 minutes off and tokens
// seen before, then apply the event to the recipient it names (by Mailgun's message id).
// The signing key is set per provider with PUT /v1/providers/{id}/webhook-signing-key and
// stored encrypted.
import { bounceRecord, type BounceRecord } from "../../core/bounce/policy";
import { loadBounceReader } from "../lazy-libs";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { readConfig } from "../../core/config";
import { decryptText, encryptText, loadKeyring } from "../../core/crypto";
import { RelayError, notFound } from "../../core/errors";
import { checkMailgunSignature } from "../../core/webhook-signature";
import { recordReport, type Report } from "../email-ingest/outcomes";
import { log } from "../log";
import type { AppEnv } from "./context";
import { route, signedRoute } from "./route";
import { errorResponses, errorSchema, idParam, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

const MAX_AGE_MS = 5 * 60 * 1000;
const signingKeyAad = (workspaceId: string, providerId: string) => `${workspaceId}/${providerId}/webhook-signing-key`;

export const providerWebhookKeysApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

providerWebhookKeysApp.openapi(
  route({
    method: "put",
    path: "/providers/{id}/webhook-signing-key",
    operationId: "providers.setWebhookSigningKey",
    summary: "Set the provider's webhook signing key (write-only, encrypted at rest)",
    auth: "admin",
    request: {
      params: idParam,
      body: { content: { "application/json": { schema: z.object({ signing_key: z.string().min(8).max(200).regex(/^\S+$/) }).strict(), example: { signing_key: "whsec-mailgun-0000example" } } }, required: true },
    },
    responses: {
      200: { description: "Set", content: { "application/json": { schema: z.object({ provider_id: z.string(), webhook_url_path: z.string() }) } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const id = c.req.valid("param").id;
    const provider = await c.var.store.providers.get(ws, id);
    if (!provider) throw notFound("provider");
    if (provider.type !== "mailgun") throw new RelayError("validation_error", `provider type ${provider.type} has no inbound webhooks`);
    const ring = await loadKeyring(c.env.DATA_KEYS, readConfig(c.env).dataKeyId);
    await c.var.store.webhooks.putSigningKey(ws, id, await encryptText(ring, c.req.valid("json").signing_key, signingKeyAad(ws, id)), Date.now());
    return c.json({ provider_id: id, webhook_url_path: `/webhooks/mailgun/${id}` }, 200);
  },
);

providerWebhookKeysApp.openapi(
  route({
    method: "delete",
    path: "/providers/{id}/webhook-signing-key",
    operationId: "providers.deleteWebhookSigningKey",
    summary: "Remove the provider's webhook signing key (its webhooks are refused from then on)",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    if (!(await c.var.store.webhooks.deleteSigningKey(c.var.workspaceId, c.req.valid("param").id))) throw notFound("signing key");
    return c.body(null, 204);
  },
);

const mailgunBody = z
  .object({
    signature: z.object({ timestamp: z.string().max(20), token: z.string().min(1).max(200), signature: z.string().max(128) }),
    "event-data": z
      .object({
        event: z.string(),
        recipient: z.string().optional(),
        severity: z.string().optional(),
        reason: z.string().optional(),
        url: z.string().optional(),
        message: z.object({ headers: z.record(z.string(), z.unknown()).optional() }).passthrough().optional(),
        "user-variables": z.record(z.string(), z.unknown()).optional(),
        "delivery-status": z
          .object({ code: z.union([z.number(), z.string()]).optional(), message: z.string().optional(), description: z.string().optional() })
          .passthrough()
          .optional(),
      })
      .passthrough(),
  })
  .openapi("MailgunWebhook");

/** A permanent failure as Mailgun posts it (the signature is made up). */
const mailgunExample = {
  signature: {
    timestamp: "1764750600",
    token: "c5d9f3a1e0b24e7f9a8b6c4d2e1f0a9b8c7d6e5f4a3b2c1d0e",
    signature: "0f4e7c1b9a2d5e8f3c6b9a1d4e7f0c3b6a9d2e5f8c1b4a7d0e3f6c9b2a5d8e1f",
  },
  "event-data": {
    event: "failed",
    severity: "permanent",
    reason: "bounce",
    recipient: "patient@example.net",
    message: { headers: { "message-id": "<msg_01JD4Z9Q8X2R5K7M3P@clinic.example>" } },
    "delivery-status": { code: 550, message: "5.1.1 The email account that you tried to reach does not exist" },
  },
};

const okSchema = z.object({ status: z.string() });

export const inboundWebhooksApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

inboundWebhooksApp.openapi(
  signedRoute({
    method: "post",
    path: "/webhooks/mailgun/{providerId}",
    operationId: "inboundWebhooks.mailgun",
    signedBy: "mailgunSignature",
    summary: "Mailgun event webhook (signed with the provider's webhook signing key)",
    request: {
      params: z.object({ providerId: z.string().min(1).max(64).openapi({ param: { name: "providerId", in: "path" } }) }),
      body: { content: { "application/json": { schema: mailgunBody, example: mailgunExample } }, required: true },
    },
    responses: {
      200: { description: "Processed (or ignored: not a message of ours)", content: { "application/json": { schema: okSchema } } },
      400: { description: "Invalid body", content: { "application/json": { schema: errorSchema } } },
      401: { description: "Bad signature", content: { "application/json": { schema: errorSchema } } },
      404: { description: "Unknown provider or no signing key", content: { "application/json": { schema: errorSchema } } },
      406: { description: "Timestamp outside the 5-minute window (Mailgun does not retry a 406)", content: { "application/json": { schema: errorSchema } } },
      409: { description: "Token already used (replay)", content: { "application/json": { schema: errorSchema } } },
    },
  }),
  async (c) => {
    const providerId = c.req.valid("param").providerId;
    const body = c.req.valid("json");
    const key = await c.var.store.webhooks.getSigningKey(providerId);
    if (!key) throw notFound("webhook");
    const ring = await loadKeyring(c.env.DATA_KEYS, readConfig(c.env).dataKeyId);
    const signingKey = await decryptText(ring, key.signingKeyEnc, signingKeyAad(key.workspaceId, providerId));
    const now = Date.now();
    const check = await checkMailgunSignature(signingKey, body.signature, now, MAX_AGE_MS);
    if (check === "forged") throw new RelayError("unauthorized", "webhook signature does not verify");
    if (check === "stale") return c.json(new RelayError("validation_error", "webhook timestamp is outside the 5-minute window").toJSON(), 406);
    if (!(await c.var.store.webhooks.useToken(providerId, body.signature.token, now, 2 * MAX_AGE_MS))) {
      return c.json(new RelayError("conflict", "webhook token was already used").toJSON(), 409);
    }

    const ev = body["event-data"];
    const report = mailgunReport(ev);
    const recipient = ev.recipient?.toLowerCase();
    if (!report || !recipient) return c.json({ status: "ignored" }, 200);
    const mgId = String(ev.message?.headers?.["message-id"] ?? "").replace(/^<|>$/g, "");
    const relayId = ev["user-variables"]?.["relay-message-id"];
    const ref =
      (mgId ? await c.var.store.inbound.findDeliveryByProviderMessageId(key.workspaceId, mgId, recipient) : undefined) ??
      (typeof relayId === "string" ? await c.var.store.inbound.findDeliveryByMessage(key.workspaceId, relayId, recipient) : undefined);
    if (!ref) {
      log.info("mailgun_event_unmatched", { provider_id: providerId, event: ev.event });
      return c.json({ status: "ignored" }, 200);
    }
    if (report.kind === "hard" || report.kind === "soft") report.bounce = await mailgunBounce(ev, ref.email);
    await recordReport(c.env, c.var.store, ref, report, now);
    return c.json({ status: "processed" }, 200);
  },
);

type MailgunEvent = z.infer<typeof mailgunBody>["event-data"];

/**
 * A Mailgun failure read like a bounce report (core/bounce/): its reason from the remote server's
 * reply, so a permanent failure for a sender-side reason (Mailgun's IP on a blocklist) does not
 * suppress the recipient.
 */
async function mailgunBounce(ev: MailgunEvent, sentTo: string): Promise<BounceRecord> {
  const { verdict, enhancedStatus } = await loadBounceReader();
  const ds = ev["delivery-status"];
  const code = ds?.code !== undefined ? String(ds.code) : null;
  const reply = [code, ds?.message, ds?.description].filter(Boolean).join(" ");
  // Mailgun's own word for some failures: "espblock" is the receiving provider blocking Mailgun.
  const hint = ev.reason === "espblock" ? "blocked" : "";
  const temporary = ev.severity === "temporary";
  const r = verdict({
    email: ev.recipient ?? sentTo,
    action: temporary ? "delayed" : "failed",
    status: enhancedStatus(reply),
    replyCode: code && /^[245]\d\d$/.test(code) ? code : null,
    command: null,
    text: [reply, hint].join("\n"),
    delayed: temporary,
    diagnostic: reply || ev.reason || null,
    remoteMta: null,
  });
  return bounceRecord(r, sentTo);
}

function mailgunReport(ev: MailgunEvent): Report | null {
  const ds = ev["delivery-status"];
  const code = ds?.code !== undefined ? String(ds.code) : null;
  const diagnostic = [code, ds?.message || ds?.description].filter(Boolean).join(" ") || ev.reason || null;
  switch (ev.event) {
    case "delivered":
      return { kind: "delivered", source: "mailgun" };
    case "failed":
      return ev.severity === "temporary"
        ? { kind: "soft", source: "mailgun", status: code, diagnostic }
        : { kind: "hard", source: "mailgun", status: code, diagnostic, extra: ev.reason ? { mailgun_reason: ev.reason } : {} };
    case "complained":
      return { kind: "complaint", source: "mailgun" };
    case "unsubscribed":
      return { kind: "unsubscribed", source: "mailgun" };
    case "opened":
      return { kind: "opened", source: "mailgun" };
    case "clicked":
      return { kind: "clicked", source: "mailgun", extra: ev.url ? { url: ev.url } : {} };
    default:
      return null;
  }
}
