// POST /v1/providers/{id}/test: sends one small test message through one provider, right now,
// outside the queue, and reports the provider's answer. The answer is data (HTTP 200 with
// result sent | transient | permanent), not an API error: a rejected key is what the operator
// came to find out. Nothing is recorded in the message tables.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { domainOf, parseMailbox, type Mailbox } from "../../core/address";
import { readConfig } from "../../core/config";
import type { StructuredContent } from "../../core/content";
import { loadKeyring } from "../../core/crypto";
import { notFound, RelayError } from "../../core/errors";
import { randomToken } from "../../core/ids";
import { renderMime } from "../../core/mime-render";
import type { ProviderRow } from "../../db/store/providers";
import { buildProvider } from "../dispatcher/build-provider";
import { describeError } from "../dispatcher/providers/outcome";
import type { OutboundMessage, Provider, SendResult } from "../dispatcher/providers/types";
import { log } from "../log";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses, idParam, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

const mailbox = z
  .string()
  .max(320)
  .refine((s) => parseMailbox(s) !== null, "must be one email address");

const testInput = z
  .object({
    to: mailbox.openapi({ description: "Where the test message goes", example: "you@example.org" }),
    from: mailbox.optional().openapi({
      description: "Sender; its domain must be a verified sender domain. Defaults to the Gmail provider's mailbox, else postmaster@<first verified domain>",
    }),
  })
  .strict()
  .openapi("ProviderTestRequest");

const testResult = z
  .object({
    result: z.enum(["sent", "transient", "permanent"]),
    provider_message_id: z.string().optional(),
    reason: z.string().optional(),
    /** Set when the provider says the fault is its configuration (credentials, domain), not the message. */
    configuration: z.boolean().optional(),
    retry_after_ms: z.number().optional(),
    latency_ms: z.number(),
  })
  .openapi("ProviderTestResult");

export const providerTestApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

providerTestApp.openapi(
  route({
    method: "post",
    path: "/providers/{id}/test",
    operationId: "providers.sendTest",
    summary: "Send a test message through this provider now and report its answer",
    auth: "admin",
    request: { params: idParam, body: { content: { "application/json": { schema: testInput, example: { to: "it-desk@clinic.example", from: "noreply@clinic.example" } } }, required: true } },
    responses: {
      200: { description: "The provider's answer (also when it refused)", content: { "application/json": { schema: testResult } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const input = c.req.valid("json");
    const row = await c.var.store.providers.get(ws, c.req.valid("param").id);
    if (!row) throw notFound("provider");

    const verified = (await c.var.store.providers.domains(ws)).filter((d) => d.verifiedAt !== null).map((d) => d.domain.toLowerCase());
    const from = input.from !== undefined ? parseMailbox(input.from)! : defaultSender(row, verified);
    if (!verified.includes(domainOf(from.address))) {
      throw new RelayError("sender_domain_not_verified", `sender domain ${domainOf(from.address)} is not verified for this workspace`);
    }
    const to = parseMailbox(input.to)!;

    const ring = await loadKeyring(c.env.DATA_KEYS, readConfig(c.env).dataKeyId);
    const message = await testMessage(row, from, to);
    const started = Date.now();
    let result: SendResult;
    try {
      const provider: Provider = await buildProvider(c.env, ring, row);
      result = await provider.send(message, { now: Date.now, fetch: (input, init) => fetch(input, init) });
    } catch (e) {
      // A stored config that no longer builds, or a provider that threw: report, do not 500.
      log.warn("provider_test_error", { provider_id: row.id, error: describeError(e) });
      result = { status: "permanent", reason: `provider could not be used: ${describeError(e)}`, configuration: true };
    }
    const latency_ms = Math.max(0, Date.now() - started);
    return c.json(view(result, latency_ms), 200);
  },
);

function defaultSender(row: ProviderRow, verified: string[]): Mailbox {
  // Gmail sends as the impersonated mailbox; another From would be rewritten or refused.
  const gmailSender = row.type === "gmail" ? (row.config as { sender?: unknown }).sender : undefined;
  if (typeof gmailSender === "string") {
    const m = parseMailbox(gmailSender);
    if (m) return m;
  }
  const first = verified[0];
  if (first === undefined) {
    throw new RelayError("unprocessable", "this workspace has no verified sender domain; verify one, or pass `from`");
  }
  return { address: `postmaster@${first}`, name: "Relay test" };
}

async function testMessage(row: ProviderRow, from: Mailbox, to: Mailbox): Promise<OutboundMessage> {
  const token = randomToken(12);
  const messageIdHeader = `<test.${token}@${domainOf(from.address)}>`;
  const now = new Date();
  const text = [
    "This is a test message from Relay.",
    "",
    `Provider: ${row.name} (${row.type}, ${row.id})`,
    `Sent at: ${now.toISOString()}`,
    "",
    "If you received it, the provider delivers for this workspace. No reply is needed.",
  ].join("\n");
  const content: StructuredContent = {
    kind: "structured",
    from,
    to: [to],
    cc: [],
    subject: `Relay test message (${row.name})`,
    text,
    headers: [["X-Relay-Test", row.id]],
    attachments: [],
    variables: {},
  };
  const raw = await renderMime(content, { messageIdHeader, date: now });
  return {
    id: `test_${token}`,
    deliveryId: `test_${token}`,
    raw,
    messageIdHeader,
    envelopeFrom: from.address,
    recipients: [to.address],
    from: from.address,
    to: [to.address],
    cc: [],
    subject: content.subject,
    text,
    headers: { "X-Relay-Test": row.id },
    attachments: [],
    tags: ["relay-test"],
    metadata: {},
  };
}

function view(r: SendResult, latency_ms: number): z.infer<typeof testResult> {
  if (r.status === "sent") return { result: "sent", provider_message_id: r.providerMessageId, latency_ms };
  if (r.status === "transient") {
    return { result: "transient", reason: r.reason, ...(r.retryAfterMs !== undefined ? { retry_after_ms: r.retryAfterMs } : {}), latency_ms };
  }
  const recipientReason = r.recipients?.[0]?.reason;
  return {
    result: "permanent",
    // The per-recipient reason (e.g. the RCPT 550) says more than the summary.
    reason: recipientReason && recipientReason !== r.reason ? `${r.reason}: ${recipientReason}` : r.reason,
    ...(r.providerMessageId !== undefined ? { provider_message_id: r.providerMessageId } : {}),
    ...(r.configuration ? { configuration: true } : {}),
    latency_ms,
  };
}
