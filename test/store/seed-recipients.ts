// Rows the recipients and campaigns conformance cases (conformance-recipients.ts,
// conformance-campaigns.ts) write and read behind the store's back, in SQL both SQLite and
// MySQL run as written (test/store/sql-seeder.ts's rules). Values come back normalized.
import { newId } from "../../core/ids";
import type { SqlExec } from "./sql-seeder";

const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function insert(exec: SqlExec, table: string, row: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(row);
  return exec.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, Object.values(row));
}

export interface RecordSeed {
  email: string;
  status?: "active" | "bounced" | "complained" | "unsubscribed";
  bounceCount?: number;
  firstNameEnc?: string | null;
  metadata?: Record<string, unknown>;
  createdAt?: number;
  updatedAt?: number;
}

/** What a recipient record holds, as the conformance cases compare it. */
export interface RecordState {
  id: string;
  workspaceId: string;
  email: string;
  status: string;
  bounceCount: number;
  firstNameEnc: string | null;
  lastNameEnc: string | null;
  fieldsEnc: string | null;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export function recipientSeeds(exec: SqlExec) {
  return {
    async record(workspaceId: string, r: RecordSeed): Promise<string> {
      const id = newId("rcp");
      await insert(exec, "recipients", {
        id,
        workspace_id: workspaceId,
        email: r.email,
        status: r.status ?? "active",
        bounce_count: r.bounceCount ?? 0,
        first_name_enc: r.firstNameEnc ?? null,
        metadata: JSON.stringify(r.metadata ?? {}),
        created_at: r.createdAt ?? 1,
        updated_at: r.updatedAt ?? r.createdAt ?? 1,
      });
      return id;
    },

    async recordRow(id: string): Promise<RecordState | undefined> {
      const [r] = await exec.all(
        `SELECT id, workspace_id, email, status, bounce_count, first_name_enc, last_name_enc, fields_enc, metadata, created_at, updated_at FROM recipients WHERE id = ?`,
        [id],
      );
      if (!r) return undefined;
      return {
        id: String(r.id),
        workspaceId: String(r.workspace_id),
        email: String(r.email),
        status: String(r.status),
        bounceCount: Number(r.bounce_count),
        firstNameEnc: strOrNull(r.first_name_enc),
        lastNameEnc: strOrNull(r.last_name_enc),
        fieldsEnc: strOrNull(r.fields_enc),
        metadata: json(r.metadata),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
      };
    },

    /** The workspace's records with this exact address. */
    async recordsWith(workspaceId: string, email: string): Promise<string[]> {
      return (await exec.all(`SELECT id FROM recipients WHERE workspace_id = ? AND email = ?`, [workspaceId, email])).map((r) => String(r.id));
    },

    async event(workspaceId: string, e: { recipientId?: string; messageRecipientId?: string; messageId?: string; type?: string }): Promise<string> {
      const id = newId("evt");
      await insert(exec, "recipient_events", {
        id,
        workspace_id: workspaceId,
        recipient_id: e.recipientId ?? null,
        message_recipient_id: e.messageRecipientId ?? null,
        message_id: e.messageId ?? null,
        type: e.type ?? "note",
        detail: "{}",
        created_at: 1,
      });
      return id;
    },

    /** Events of a recipient record, by type. */
    async eventsOf(recipientId: string): Promise<{ id: string; workspaceId: string; type: string; detail: Record<string, unknown>; createdAt: number }[]> {
      const rows = await exec.all(`SELECT id, workspace_id, type, detail, created_at FROM recipient_events WHERE recipient_id = ? ORDER BY type, id`, [recipientId]);
      return rows.map((r) => ({ id: String(r.id), workspaceId: String(r.workspace_id), type: String(r.type), detail: json(r.detail), createdAt: Number(r.created_at) }));
    },

    async eventExists(id: string): Promise<boolean> {
      return (await exec.all(`SELECT id FROM recipient_events WHERE id = ?`, [id])).length > 0;
    },

    async list(workspaceId: string, name: string, createdAt = 1): Promise<string> {
      const id = newId("lst");
      await insert(exec, "recipient_lists", { id, workspace_id: workspaceId, name, created_at: createdAt });
      return id;
    },

    async listName(id: string): Promise<string | undefined> {
      const [r] = await exec.all(`SELECT name FROM recipient_lists WHERE id = ?`, [id]);
      return r ? String(r.name) : undefined;
    },

    member: (workspaceId: string, listId: string, recipientId: string, createdAt = 1) =>
      insert(exec, "recipient_list_members", { list_id: listId, recipient_id: recipientId, workspace_id: workspaceId, created_at: createdAt }),

    /** A list's members (recipient id and when added), by recipient id. */
    async members(listId: string): Promise<{ recipientId: string; workspaceId: string; createdAt: number }[]> {
      const rows = await exec.all(`SELECT recipient_id, workspace_id, created_at FROM recipient_list_members WHERE list_id = ? ORDER BY recipient_id`, [listId]);
      return rows.map((r) => ({ recipientId: String(r.recipient_id), workspaceId: String(r.workspace_id), createdAt: Number(r.created_at) }));
    },

    /** Every list a recipient is on. */
    async listsOf(recipientId: string): Promise<string[]> {
      return (await exec.all(`SELECT list_id FROM recipient_list_members WHERE recipient_id = ? ORDER BY list_id`, [recipientId])).map((r) => String(r.list_id));
    },

    attempt: (workspaceId: string, messageId: string, recipients: string[]) =>
      insert(exec, "delivery_attempts", {
        id: newId("da"),
        message_id: messageId,
        workspace_id: workspaceId,
        delivery_id: "dlv_conformance",
        recipients: JSON.stringify(recipients),
        outcome: "sent",
        started_at: 1,
        finished_at: 2,
      }),

    async attemptRecipients(messageId: string): Promise<string[][]> {
      return (await exec.all(`SELECT recipients FROM delivery_attempts WHERE message_id = ? ORDER BY id`, [messageId])).map((r) => json<string[]>(r.recipients));
    },

    // `key` is a reserved word on MySQL; SQLite also takes backticks around a name.
    idempotency: (workspaceId: string, key: string, messageId: string) =>
      exec.run("INSERT INTO idempotency_keys (workspace_id, `key`, request_hash, message_id, response_status, response_body, created_at) VALUES (?, ?, 'h', ?, 202, '{}', 1)", [
        workspaceId,
        key,
        messageId,
      ]),

    async idempotencyKeys(workspaceId: string): Promise<string[]> {
      return (await exec.all("SELECT `key` AS k FROM idempotency_keys WHERE workspace_id = ? ORDER BY k", [workspaceId])).map((r) => String(r.k));
    },

    setBody: (messageId: string, r2Key: string | null) => exec.run(`UPDATE messages SET body_r2_key = ?, body_enc = ? WHERE id = ?`, [r2Key, "ciphertext", messageId]),

    async messageBody(messageId: string): Promise<{ toEmails: string[]; bodyR2Key: string | null; bodyEnc: string | null; purgedAt: number | null }> {
      const [r] = await exec.all(`SELECT to_emails, body_r2_key, body_enc, body_purged_at FROM messages WHERE id = ?`, [messageId]);
      return { toEmails: json(r!.to_emails), bodyR2Key: strOrNull(r!.body_r2_key), bodyEnc: strOrNull(r!.body_enc), purgedAt: numOrNull(r!.body_purged_at) };
    },

    async campaign(workspaceId: string, c: { name?: string; status?: "draft" | "active" | "completed" | "cancelled"; createdAt?: number } = {}): Promise<string> {
      const id = newId("cmp");
      await insert(exec, "campaigns", { id, workspace_id: workspaceId, name: c.name ?? `campaign ${id.slice(-6)}`, status: c.status ?? "active", created_at: c.createdAt ?? 1, updated_at: c.createdAt ?? 1 });
      return id;
    },

    async campaignRow(id: string): Promise<{ workspaceId: string; name: string; status: string; updatedAt: number } | undefined> {
      const [r] = await exec.all(`SELECT workspace_id, name, status, updated_at FROM campaigns WHERE id = ?`, [id]);
      return r ? { workspaceId: String(r.workspace_id), name: String(r.name), status: String(r.status), updatedAt: Number(r.updated_at) } : undefined;
    },

    /** A day row of a campaign's counters (only the counters given; the rest 0). */
    campaignDay: (workspaceId: string, campaignId: string, day: string, counts: Partial<Record<"queued" | "sent" | "delivered" | "bounced" | "complained" | "failed" | "suppressed", number>>) =>
      insert(exec, "campaign_stats", {
        campaign_id: campaignId,
        workspace_id: workspaceId,
        day,
        queued: counts.queued ?? 0,
        sent: counts.sent ?? 0,
        delivered: counts.delivered ?? 0,
        bounced: counts.bounced ?? 0,
        complained: counts.complained ?? 0,
        failed: counts.failed ?? 0,
        suppressed: counts.suppressed ?? 0,
      }),
  };
}
