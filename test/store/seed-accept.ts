// Rows the accept and messages conformance cases (conformance-accept.ts, conformance-messages.ts)
// write and read behind the store's back, in the plain SQL both backends run (sql-seeder.ts),
// and the NewMessage an accept writes.
import { newId } from "../../core/ids";
import type { NewMessage } from "../../db/store/accept";
import type { SqlExec } from "./sql-seeder";

function insert(exec: SqlExec, table: string, row: Record<string, unknown>): Promise<void> {
  // Backticks: `key` is reserved in MySQL; SQLite reads backticks as quotes too.
  const cols = Object.keys(row);
  return exec.run(`INSERT INTO ${table} (${cols.map((c) => `\`${c}\``).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, Object.values(row));
}

/** A domain no other test uses (sender_domains holds one verified owner per domain across workspaces). */
export const uniqueDomain = (label = "d"): string => `${label}-${newId("dom").slice(4, 16).toLowerCase().replace(/[^a-z0-9]/g, "x")}.example`;

export function acceptSeeds(exec: SqlExec) {
  return {
    async senderDomain(workspaceId: string, domain: string, verifiedAt: number | null): Promise<void> {
      await insert(exec, "sender_domains", { id: newId("dom"), workspace_id: workspaceId, domain, verification_token: "t", verified_at: verifiedAt, created_at: 1 });
    },
    async endpoint(workspaceId: string, events: string[], enabled = true): Promise<void> {
      await insert(exec, "webhook_endpoints", { id: newId("whe"), workspace_id: workspaceId, url: "https://hooks.example/x", secret_enc: "enc", events: JSON.stringify(events), enabled: enabled ? 1 : 0, created_at: 1, updated_at: 1 });
    },
    async dlp(workspaceId: string, dlp: Record<string, unknown>): Promise<void> {
      await insert(exec, "workspace_security", { workspace_id: workspaceId, dlp: JSON.stringify(dlp), updated_at: 1 });
    },
    /** A recipient record in the given state (a suppression unless active). */
    async record(workspaceId: string, email: string, status: "active" | "bounced" | "complained" | "unsubscribed"): Promise<string> {
      const id = newId("rcp");
      await insert(exec, "recipients", { id, workspace_id: workspaceId, email, status, bounce_count: 0, metadata: "{}", created_at: 1, updated_at: 1 });
      return id;
    },
    async idempotencyKey(workspaceId: string, key: string, requestHash: string, responseBody: string): Promise<void> {
      await insert(exec, "idempotency_keys", { workspace_id: workspaceId, key, request_hash: requestHash, message_id: null, response_status: 202, response_body: responseBody, created_at: 5 });
    },
    async setCampaignStatus(id: string, status: string): Promise<void> {
      await exec.run(`UPDATE campaigns SET status = ? WHERE id = ?`, [status, id]);
    },
    async setTags(messageId: string, tags: string[]): Promise<void> {
      await exec.run(`UPDATE messages SET tags = ? WHERE id = ?`, [JSON.stringify(tags), messageId]);
    },
    async attachment(workspaceId: string, messageId: string, sizeBytes: number): Promise<string> {
      const id = newId("att");
      await insert(exec, "attachments", { id, message_id: messageId, workspace_id: workspaceId, filename_enc: "enc", content_type: "application/pdf", size_bytes: sizeBytes, content_id: null, created_at: 1 });
      return id;
    },

    /** What the accept path wrote for a message: its row, recipients (by email), headers, attachments, campaign days, records. */
    async written(workspaceId: string, messageId: string) {
      const [message] = await exec.all(`SELECT status, workspace_id, message_id_header, to_emails, tags FROM messages WHERE id = ?`, [messageId]);
      const recipients = await exec.all(`SELECT email, kind, status, last_error, recipient_id FROM message_recipients WHERE message_id = ? ORDER BY email`, [messageId]);
      const headers = await exec.all(`SELECT name FROM message_headers WHERE message_id = ? ORDER BY name`, [messageId]);
      const attachments = await exec.all(`SELECT id, size_bytes FROM attachments WHERE message_id = ? ORDER BY id`, [messageId]);
      const keys = await exec.all(`SELECT \`key\`, request_hash, response_body FROM idempotency_keys WHERE workspace_id = ? AND message_id = ?`, [workspaceId, messageId]);
      return {
        message: message ? { status: String(message.status), workspaceId: String(message.workspace_id), messageIdHeader: String(message.message_id_header) } : undefined,
        recipients: recipients.map((r) => ({ email: String(r.email), kind: String(r.kind), status: String(r.status), lastError: r.last_error === null ? null : String(r.last_error), recipientId: r.recipient_id === null ? null : String(r.recipient_id) })),
        headers: headers.map((h) => String(h.name)),
        attachments: attachments.map((a) => ({ id: String(a.id), sizeBytes: Number(a.size_bytes) })),
        keys: keys.map((k) => ({ key: String(k.key), requestHash: String(k.request_hash), responseBody: String(k.response_body) })),
      };
    },
    /** The workspace's recipient records for these addresses (exact), by email. */
    async records(workspaceId: string, emails: string[]) {
      const rows = await exec.all(`SELECT id, email, status FROM recipients WHERE workspace_id = ? AND email IN (${emails.map(() => "?").join(", ")}) ORDER BY email`, [workspaceId, ...emails]);
      return rows.map((r) => ({ id: String(r.id), email: String(r.email), status: String(r.status) }));
    },
    async campaignDays(campaignId: string) {
      const rows = await exec.all(`SELECT day, queued, suppressed FROM campaign_stats WHERE campaign_id = ? ORDER BY day`, [campaignId]);
      return rows.map((r) => ({ day: String(r.day), queued: Number(r.queued), suppressed: Number(r.suppressed) }));
    },
  };
}

/** The NewMessage workers/accept.ts commit() builds, to these recipients. */
export function newMessage(
  workspaceId: string,
  emails: string[],
  opts: { idempotencyKey?: string; requestHash?: string; campaignId?: string; headerNames?: string[]; attachments?: { id?: string; sizeBytes: number }[]; messageIdHeader?: string } = {},
): NewMessage {
  const id = newId("msg");
  const at = Date.now();
  return {
    message: {
      id,
      workspaceId,
      source: "api",
      messageIdHeader: opts.messageIdHeader ?? `<${id.slice(4)}@clinic.example>`,
      fromEmail: "noreply@clinic.example",
      envelopeFrom: "noreply@clinic.example",
      toEmails: emails,
      status: "queued",
      tags: ["reminder"],
      metadata: { appointment: "42" },
      bodyEnc: "enc",
      bodyR2Key: null,
      sizeBytes: 321,
      forceSend: false,
      personalize: false,
      containsPhi: false,
      enqueuedAt: at,
      queuedAt: at,
      updatedAt: at,
      requestId: null,
      campaignId: opts.campaignId ?? null,
    },
    recipients: emails.map((email, i) => ({ id: newId("mr"), messageId: id, workspaceId, email, kind: i === 0 ? "to" : "cc", updatedAt: at })),
    headerNames: opts.headerNames ?? [],
    attachments: (opts.attachments ?? []).map((a) => ({ id: a.id ?? newId("att"), messageId: id, workspaceId, filenameEnc: "enc", contentType: "application/pdf", sizeBytes: a.sizeBytes, contentId: null })),
    ...(opts.campaignId ? { campaignDay: new Date(at).toISOString().slice(0, 10) } : {}),
    ...(opts.idempotencyKey ? { idempotency: { key: opts.idempotencyKey, requestHash: opts.requestHash ?? "hash-1", createdAt: at } } : {}),
  };
}
