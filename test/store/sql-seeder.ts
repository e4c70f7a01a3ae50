// The Seeder (test/store/seeder.ts) in SQL that SQLite (D1) and MySQL/MariaDB both run as
// written: unquoted names, `?` parameters, JSON written as text. Each backend supplies how a
// statement runs (test/store/d1-seeder.ts, test/store/mysql-seeder.ts); what comes back is
// normalized here (MySQL hands BIGINT and JSON back in driver shapes, D1 as numbers and text).
import { newId } from "../../core/ids";
import type { AttemptState, CampaignDayState, EventState, MessageState, RecipientSeed, RecipientState, Seeder } from "./seeder";

export interface SqlExec {
  all(sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, values?: unknown[]): Promise<void>;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));

function insert(exec: SqlExec, table: string, row: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(row);
  return exec.run(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`, Object.values(row));
}

function update(exec: SqlExec, table: string, id: string, patch: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(patch).filter((k) => patch[k] !== undefined);
  if (cols.length === 0) return Promise.resolve();
  return exec.run(`UPDATE ${table} SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE id = ?`, [...cols.map((c) => patch[c]), id]);
}

export function sqlSeeder(exec: SqlExec): Seeder {
  // Seeded order of each message's recipients (their ids are random).
  const order = new Map<string, number>();
  let emailSeq = 0;

  return {
    async workspace(opts = {}) {
      const id = newId("ws");
      const slug = `c-${id.slice(3).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
      await insert(exec, "workspaces", { id, slug, display_name: "conformance", configuration: JSON.stringify(opts.configuration ?? {}), status: "active", created_at: 1, updated_at: 1 });
      return id;
    },

    async provider(workspaceId, p) {
      const id = newId("prv");
      const at = p.createdAt ?? Date.now();
      await insert(exec, "providers", {
        id,
        workspace_id: workspaceId,
        name: p.name ?? `${p.type} ${id.slice(-6)}`,
        type: p.type,
        config: JSON.stringify(p.config ?? {}),
        status: p.status ?? "enabled",
        priority: p.priority ?? 100,
        weight: 1,
        baa_covered: 0,
        created_at: at,
        updated_at: at,
      });
      return id;
    },

    async rateLimit(workspaceId, r) {
      const id = newId("rl");
      await insert(exec, "rate_limits", {
        id,
        workspace_id: workspaceId,
        scope: r.scope,
        provider_id: r.providerId ?? null,
        period: r.period,
        max_count: r.maxCount,
        burst: r.burst ?? null,
        created_at: 1,
        updated_at: 1,
      });
      return id;
    },

    async campaign(workspaceId) {
      const id = newId("cmp");
      await insert(exec, "campaigns", { id, workspace_id: workspaceId, name: `campaign ${id.slice(-6)}`, status: "active", created_at: 1, updated_at: 1 });
      return id;
    },

    async recipientRecord(workspaceId, email) {
      const id = newId("rcp");
      await insert(exec, "recipients", { id, workspace_id: workspaceId, email, status: "active", bounce_count: 0, metadata: "{}", created_at: 1, updated_at: 1 });
      return id;
    },

    async message(workspaceId, m) {
      const id = newId("msg");
      const at = m.queuedAt ?? Date.now();
      const seeds: RecipientSeed[] = typeof m.recipients === "number" ? Array.from({ length: m.recipients }, () => ({})) : m.recipients;
      const emails = seeds.map((r) => r.email ?? `r${String(emailSeq++).padStart(4, "0")}@example.net`);
      await insert(exec, "messages", {
        id,
        workspace_id: workspaceId,
        campaign_id: m.campaignId ?? null,
        source: "api",
        message_id_header: `<${id}@conformance.example>`,
        from_email: "noreply@clinic.example",
        to_emails: JSON.stringify(emails),
        status: m.status ?? "queued",
        tags: "[]",
        metadata: "{}",
        size_bytes: m.sizeBytes ?? 1234,
        force_send: 0,
        not_before: m.notBefore ?? null,
        attempt_count: 0,
        enqueued_at: m.enqueuedAt ?? null,
        queued_at: at,
        contains_phi: 0,
        personalize: 0,
        waiting_on: m.waitingOn ?? null,
        updated_at: m.updatedAt ?? at,
      });
      const recipientIds: string[] = [];
      for (const [i, r] of seeds.entries()) {
        const rid = newId("mr");
        recipientIds.push(rid);
        order.set(rid, i);
        await insert(exec, "message_recipients", {
          id: rid,
          message_id: id,
          workspace_id: workspaceId,
          email: emails[i],
          kind: "to",
          status: r.status ?? "queued",
          attempts: r.attempts ?? 0,
          updated_at: r.updatedAt ?? at,
          lease_until: r.leaseUntil ?? null,
        });
      }
      return { id, recipientIds, emails };
    },

    setRecipient: (id, p) => update(exec, "message_recipients", id, { status: p.status, attempts: p.attempts, updated_at: p.updatedAt, lease_until: p.leaseUntil }),
    setMessage: (id, p) => update(exec, "messages", id, { status: p.status, not_before: p.notBefore, enqueued_at: p.enqueuedAt, waiting_on: p.waitingOn }),

    async recipients(messageId) {
      const rows = await exec.all(
        `SELECT id, email, status, attempts, updated_at, lease_until, provider_id, provider_message_id, last_error, sent_at FROM message_recipients WHERE message_id = ? ORDER BY email`,
        [messageId],
      );
      const out = rows.map(
        (r): RecipientState => ({
          id: str(r.id),
          email: str(r.email),
          status: str(r.status) as RecipientState["status"],
          attempts: num(r.attempts),
          updatedAt: num(r.updated_at),
          leaseUntil: numOrNull(r.lease_until),
          providerId: strOrNull(r.provider_id),
          providerMessageId: strOrNull(r.provider_message_id),
          lastError: strOrNull(r.last_error),
          sentAt: numOrNull(r.sent_at),
        }),
      );
      return out.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    },

    async messageRow(messageId) {
      const [r] = await exec.all(`SELECT status, updated_at, enqueued_at, not_before, waiting_on, attempt_count, last_error, processed_at FROM messages WHERE id = ?`, [messageId]);
      if (!r) return undefined;
      return {
        status: str(r.status) as MessageState["status"],
        updatedAt: num(r.updated_at),
        enqueuedAt: numOrNull(r.enqueued_at),
        notBefore: numOrNull(r.not_before),
        waitingOn: strOrNull(r.waiting_on),
        attemptCount: num(r.attempt_count),
        lastError: strOrNull(r.last_error),
        processedAt: numOrNull(r.processed_at),
      };
    },

    async attempts(messageId) {
      const rows = await exec.all(
        `SELECT id, message_id, workspace_id, delivery_id, provider_id, recipients, outcome, detail, provider_message_id, latency_ms, started_at, finished_at
         FROM delivery_attempts WHERE message_id = ? ORDER BY started_at, id`,
        [messageId],
      );
      return rows.map(
        (r): AttemptState => ({
          id: str(r.id),
          messageId: str(r.message_id),
          workspaceId: str(r.workspace_id),
          deliveryId: str(r.delivery_id),
          providerId: strOrNull(r.provider_id),
          recipients: json<string[]>(r.recipients),
          outcome: str(r.outcome),
          detail: strOrNull(r.detail),
          providerMessageId: strOrNull(r.provider_message_id),
          latencyMs: numOrNull(r.latency_ms),
          startedAt: num(r.started_at),
          finishedAt: num(r.finished_at),
        }),
      );
    },

    async events(messageId) {
      const rows = await exec.all(
        `SELECT workspace_id, recipient_id, message_recipient_id, type, detail, created_at FROM recipient_events WHERE message_id = ? ORDER BY type, message_recipient_id`,
        [messageId],
      );
      return rows.map(
        (r): EventState => ({
          workspaceId: str(r.workspace_id),
          recipientId: strOrNull(r.recipient_id),
          messageRecipientId: strOrNull(r.message_recipient_id),
          type: str(r.type),
          detail: json<Record<string, unknown>>(r.detail),
          createdAt: num(r.created_at),
        }),
      );
    },

    async campaignDays(campaignId) {
      const rows = await exec.all(`SELECT day, queued, sent, delivered, bounced, complained, failed, suppressed FROM campaign_stats WHERE campaign_id = ? ORDER BY day`, [campaignId]);
      return rows.map(
        (r): CampaignDayState => ({
          day: str(r.day),
          queued: num(r.queued),
          sent: num(r.sent),
          delivered: num(r.delivered),
          bounced: num(r.bounced),
          complained: num(r.complained),
          failed: num(r.failed),
          suppressed: num(r.suppressed),
        }),
      );
    },
  };
}
