// Webhook rows for the conformance suite's webhooks and inbound cases, written and read behind the
// store's back in SQL both backends run (test/store/sql-seeder.ts), normalized to plain values.
import { newId, randomToken } from "../../core/ids";
import type { SqlExec } from "./sql-seeder";

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));

export interface EndpointSeed {
  events?: string[];
  enabled?: boolean;
  failingSince?: number | null;
  createdAt?: number;
  url?: string;
}

export interface EventSeed {
  status?: "pending" | "delivered" | "failed";
  nextAttemptAt?: number | null;
  attempts?: number;
  createdAt?: number;
  type?: string;
  messageId?: string | null;
}

export interface EventState {
  status: string;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  lastStatusCode: number | null;
  deliveredAt: number | null;
}

export interface EndpointState {
  workspaceId: string;
  url: string;
  enabled: boolean;
  failingSince: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
  updatedAt: number;
}

export function webhookSeeder(exec: SqlExec) {
  return {
    async endpoint(workspaceId: string, e: EndpointSeed = {}): Promise<string> {
      const id = newId("whe");
      const at = e.createdAt ?? Date.now();
      await exec.run(
        `INSERT INTO webhook_endpoints (id, workspace_id, url, secret_enc, events, enabled, description, failing_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
        [id, workspaceId, e.url ?? `https://hooks.example/${id}`, "sealed", JSON.stringify(e.events ?? ["*"]), e.enabled === false ? 0 : 1, e.failingSince ?? null, at, at],
      );
      return id;
    },

    async event(workspaceId: string, endpointId: string | null, e: EventSeed = {}): Promise<string> {
      const id = newId("wev");
      await exec.run(
        `INSERT INTO webhook_events (id, workspace_id, endpoint_id, message_id, type, payload, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, workspaceId, endpointId, e.messageId ?? null, e.type ?? "message.sent", JSON.stringify({ type: e.type ?? "message.sent", n: id }), e.status ?? "pending", e.attempts ?? 0, e.nextAttemptAt === undefined ? 1 : e.nextAttemptAt, e.createdAt ?? Date.now()],
      );
      return id;
    },

    async attempt(workspaceId: string, endpointId: string, eventId: string, attempt: number, at = Date.now()): Promise<string> {
      const id = `wat_${randomToken(16)}`;
      await exec.run(`INSERT INTO webhook_attempts (id, event_id, workspace_id, endpoint_id, attempt, status_code, latency_ms, error, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 500, 10, 'boom', NULL, ?)`, [
        id,
        eventId,
        workspaceId,
        endpointId,
        attempt,
        at,
      ]);
      return id;
    },

    async eventRow(id: string): Promise<EventState | undefined> {
      const [r] = await exec.all(`SELECT status, attempts, next_attempt_at, last_error, last_status_code, delivered_at FROM webhook_events WHERE id = ?`, [id]);
      if (!r) return undefined;
      return {
        status: String(r.status),
        attempts: num(r.attempts),
        nextAttemptAt: numOrNull(r.next_attempt_at),
        lastError: strOrNull(r.last_error),
        lastStatusCode: numOrNull(r.last_status_code),
        deliveredAt: numOrNull(r.delivered_at),
      };
    },

    async endpointRow(id: string): Promise<EndpointState | undefined> {
      const [r] = await exec.all(`SELECT workspace_id, url, enabled, failing_since, disabled_at, disabled_reason, updated_at FROM webhook_endpoints WHERE id = ?`, [id]);
      if (!r) return undefined;
      return {
        workspaceId: String(r.workspace_id),
        url: String(r.url),
        enabled: num(r.enabled) === 1,
        failingSince: numOrNull(r.failing_since),
        disabledAt: numOrNull(r.disabled_at),
        disabledReason: strOrNull(r.disabled_reason),
        updatedAt: num(r.updated_at),
      };
    },

    /** The event's attempts as (attempt number, status code, error), by attempt number. */
    async attemptsOf(eventId: string): Promise<{ attempt: number; statusCode: number | null; error: string | null }[]> {
      const rows = await exec.all(`SELECT attempt, status_code, error FROM webhook_attempts WHERE event_id = ? ORDER BY attempt`, [eventId]);
      return rows.map((r) => ({ attempt: num(r.attempt), statusCode: numOrNull(r.status_code), error: strOrNull(r.error) }));
    },

    async signingKeyRow(providerId: string): Promise<{ workspaceId: string; signingKeyEnc: string; updatedAt: number } | undefined> {
      const [r] = await exec.all(`SELECT workspace_id, signing_key_enc, updated_at FROM provider_webhook_keys WHERE provider_id = ?`, [providerId]);
      return r ? { workspaceId: String(r.workspace_id), signingKeyEnc: String(r.signing_key_enc), updatedAt: num(r.updated_at) } : undefined;
    },

    async tokens(providerId: string): Promise<string[]> {
      return (await exec.all(`SELECT token FROM provider_webhook_tokens WHERE provider_id = ? ORDER BY token`, [providerId])).map((r) => String(r.token));
    },

    /** A message recipient's columns the inbound outcome writes besides its status. */
    async recipientOutcome(messageRecipientId: string): Promise<{ recipientId: string | null; bounce: Record<string, unknown> | null } | undefined> {
      const [r] = await exec.all(`SELECT recipient_id, bounce FROM message_recipients WHERE id = ?`, [messageRecipientId]);
      return r ? { recipientId: strOrNull(r.recipient_id), bounce: r.bounce === null || r.bounce === undefined ? null : json<Record<string, unknown>>(r.bounce) } : undefined;
    },

    async recipientRecord(workspaceId: string, email: string): Promise<{ id: string; status: string; bounceCount: number } | undefined> {
      const [r] = await exec.all(`SELECT id, status, bounce_count FROM recipients WHERE workspace_id = ? AND email = ?`, [workspaceId, email]);
      return r ? { id: String(r.id), status: String(r.status), bounceCount: num(r.bounce_count) } : undefined;
    },
  };
}

export type WebhookSeeder = ReturnType<typeof webhookSeeder>;
