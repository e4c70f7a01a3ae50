// The JSON send request: its schema (validation + OpenAPI from one source) and its
// normalisation into what the accept path stores. Everything user-supplied that can reach a
// header is checked here for CR/LF; addresses are parsed, never concatenated.
import { z } from "@hono/zod-openapi";
import { parseMailbox, type Mailbox } from "./address";
import { fromBase64, utf8 } from "./encoding";
import { RelayError } from "./errors";
import { CAMPAIGN_HEADER, campaignIdSchema } from "./campaigns";

export const MAX_RECIPIENTS = 500;
export const MAX_ATTACHMENTS = 100;
export const MAX_TAGS = 10;
export const MAX_METADATA_KEYS = 32;

const noLineBreaks = (s: string) => !/[\r\n\0]/.test(s);

const addressInput = z
  .union([
    z.string().max(998),
    z.object({ email: z.string().max(254), name: z.string().max(256).optional() }).strict(),
  ])
  .openapi({ example: "Clinic <noreply@clinic.example>" });

const addressList = z.union([addressInput, z.array(addressInput).max(MAX_RECIPIENTS)]);

export const attachmentInput = z
  .object({
    filename: z.string().min(1).max(255).refine(noLineBreaks, "must not contain line breaks"),
    content: z.string().openapi({ description: "Base64-encoded content" }),
    content_type: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a MIME type such as application/pdf")
      .optional(),
    content_id: z
      .string()
      .regex(/^[\w.@-]{1,128}$/, "must be letters, digits, '.', '@', '_' or '-'")
      .optional()
      .openapi({ description: "Set to embed inline (referenced from HTML as cid:...)" }),
  })
  .strict();

export const sendMessageInput = z
  .object({
    from: addressInput,
    to: addressList.optional(),
    cc: addressList.optional(),
    bcc: addressList.optional(),
    reply_to: addressInput.optional(),
    subject: z.string().min(1).max(998).refine(noLineBreaks, "must not contain line breaks"),
    text: z.string().optional(),
    html: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    attachments: z.array(attachmentInput).max(MAX_ATTACHMENTS).optional(),
    tags: z
      .array(z.string().regex(/^[\w.:-]{1,64}$/, "tags are 1-64 letters, digits, '_', '.', ':' or '-'"))
      .max(MAX_TAGS)
      .optional(),
    metadata: z.record(z.string().min(1).max(64), z.string().max(1024)).optional(),
    variables: z.record(z.string().min(1).max(64), z.union([z.string(), z.number(), z.boolean()])).optional(),
    force_send: z.boolean().optional(),
    campaign_id: campaignIdSchema.optional(),
    strict_variables: z
      .boolean()
      .optional()
      .openapi({ description: "Refuse (422) when the content uses a variable no recipient, message or workspace value defines and that has no default; overrides the workspace setting" }),
    personalize: z
      .boolean()
      .optional()
      .openapi({ description: "Ask for LLM personalization (the workspace must have it on; off by default). The outcome is in GET /v1/messages/{id} `personalization`" }),
    contains_phi: z
      .boolean()
      .optional()
      .openapi({ description: "The content carries PHI: it goes to the LLM only if the workspace declared its endpoint BAA-covered (a DLP-flagged message counts as PHI too)" }),
  })
  .strict()
  .openapi("SendMessage");

export type SendMessageInput = z.infer<typeof sendMessageInput>;

export interface NormalizedAttachment {
  filename: string;
  contentType: string;
  contentId?: string;
  content: Uint8Array;
}

export interface NormalizedMessage {
  from: Mailbox;
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo?: Mailbox;
  subject: string;
  text?: string;
  html?: string;
  headers: [string, string][];
  attachments: NormalizedAttachment[];
  tags: string[];
  metadata: Record<string, string>;
  variables: Record<string, string | number | boolean>;
  forceSend: boolean;
  /** undefined: the workspace's strict_variables setting decides. */
  strictVariables?: boolean;
  campaignId?: string;
  personalize?: boolean;
  containsPhi?: boolean;
  sizeBytes: number;
}

// Headers the relay writes itself; letting a caller set them would forge identity or break MIME.
const RESERVED_HEADERS = new Set([
  "from", "to", "cc", "bcc", "reply-to", "subject", "message-id", "date", "sender", "return-path",
  "mime-version", "content-type", "content-transfer-encoding", "content-disposition", "received",
  "dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results", "authentication-results",
]);
// RFC 5322 field-name: printable ASCII except colon.
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;

function toMailbox(field: string, value: z.infer<typeof addressInput>): Mailbox {
  const parsed =
    typeof value === "string"
      ? parseMailbox(value)
      : value.name !== undefined && /[\r\n\0]/.test(value.name)
        ? null
        : (() => {
            const m = parseMailbox(value.email);
            return m && { address: m.address, name: value.name ?? m.name };
          })();
  if (!parsed) throw new RelayError("invalid_address", `${field}: not a valid email address`);
  return parsed;
}

function toMailboxes(field: string, value: z.infer<typeof addressList> | undefined): Mailbox[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v, i) => toMailbox(Array.isArray(value) ? `${field}[${i}]` : field, v));
}

/** Validated JSON input → the normalized message, or a RelayError naming the field. */
export function normalizeMessage(input: SendMessageInput, maxBytes: number): NormalizedMessage {
  const from = toMailbox("from", input.from);
  const to = toMailboxes("to", input.to);
  const cc = toMailboxes("cc", input.cc);
  const bcc = toMailboxes("bcc", input.bcc);
  const replyTo = input.reply_to === undefined ? undefined : toMailbox("reply_to", input.reply_to);

  const all = [...to, ...cc, ...bcc];
  if (all.length === 0) throw new RelayError("validation_error", "to: at least one recipient (to, cc or bcc) is required");
  if (all.length > MAX_RECIPIENTS) {
    throw new RelayError("validation_error", `to: at most ${MAX_RECIPIENTS} recipients per message`);
  }
  if (input.text === undefined && input.html === undefined) {
    throw new RelayError("validation_error", "text: text or html is required");
  }

  const headers: [string, string][] = [];
  let campaignHeader: string | undefined;
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw new RelayError("validation_error", `headers.${name}: not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new RelayError("header_injection", `headers.${name}: value must not contain CR or LF`);
    if (value.length > 998) throw new RelayError("validation_error", `headers.${name}: value longer than 998 characters`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new RelayError("validation_error", `headers.${name}: set by the relay; use the message field instead`);
    }
    if (name.toLowerCase() === CAMPAIGN_HEADER) {
      // Read and removed as on the raw paths: it names a campaign and never reaches a recipient.
      campaignHeader = value.trim();
      continue;
    }
    headers.push([name, value]);
  }

  let size = utf8.encode(input.subject).length + (input.text ? utf8.encode(input.text).length : 0) + (input.html ? utf8.encode(input.html).length : 0);
  const attachments = (input.attachments ?? []).map((a, i) => {
    const content = fromBase64(a.content);
    if (!content) throw new RelayError("validation_error", `attachments[${i}].content: not valid base64`);
    size += content.length;
    return {
      filename: a.filename,
      contentType: a.content_type ?? "application/octet-stream",
      ...(a.content_id ? { contentId: a.content_id } : {}),
      content,
    };
  });
  if (size > maxBytes) {
    throw new RelayError("message_too_large", `message is ${size} bytes; the limit is ${maxBytes}`);
  }
  if (Object.keys(input.metadata ?? {}).length > MAX_METADATA_KEYS) {
    throw new RelayError("validation_error", `metadata: at most ${MAX_METADATA_KEYS} keys`);
  }

  const campaignId = input.campaign_id ?? (campaignHeader || undefined);
  if (campaignId !== undefined && !campaignIdSchema.safeParse(campaignId).success) {
    throw new RelayError("validation_error", `headers.X-Relay-Campaign: must be a campaign id (cmp_...)`);
  }

  return {
    from, to, cc, bcc,
    ...(replyTo ? { replyTo } : {}),
    subject: input.subject,
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.html !== undefined ? { html: input.html } : {}),
    headers,
    attachments,
    tags: input.tags ?? [],
    metadata: input.metadata ?? {},
    variables: input.variables ?? {},
    forceSend: input.force_send ?? false,
    ...(input.strict_variables !== undefined ? { strictVariables: input.strict_variables } : {}),
    ...(campaignId !== undefined ? { campaignId } : {}),
    ...(input.personalize ? { personalize: true } : {}),
    ...(input.contains_phi ? { containsPhi: true } : {}),
    sizeBytes: size,
  };
}
