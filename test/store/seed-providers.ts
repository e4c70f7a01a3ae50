// Rows the providers, health and llm conformance cases (test/store/conformance-{providers,health,llm}.ts)
// write and read behind the store's back, in SQL both SQLite and MySQL run as written. Values come
// back normalized (numbers, parsed JSON), whatever the driver.
import { newId, randomToken } from "../../core/ids";
import type { SqlExec } from "./sql-seeder";

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : (v ?? null));

/** A fresh, globally unique domain (verified claims are unique across the whole database). */
export const uniqueDomain = (label = "clinic"): string => `${label}-${randomToken(9).toLowerCase().replace(/[^a-z0-9]/g, "x")}.example`;

export async function seedDomain(exec: SqlExec, workspaceId: string, domain: string, verifiedAt: number | null = null): Promise<string> {
  const id = newId("dom");
  await exec.run("INSERT INTO sender_domains (id, workspace_id, domain, verification_token, verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
    id,
    workspaceId,
    domain,
    randomToken(18),
    verifiedAt,
    1,
  ]);
  return id;
}

export async function domainRow(exec: SqlExec, id: string): Promise<{ workspaceId: string; domain: string; verifiedAt: number | null } | undefined> {
  const [r] = await exec.all("SELECT workspace_id, domain, verified_at FROM sender_domains WHERE id = ?", [id]);
  return r && { workspaceId: String(r.workspace_id), domain: String(r.domain), verifiedAt: numOrNull(r.verified_at) };
}

export async function providerRow(exec: SqlExec, id: string): Promise<{ workspaceId: string; name: string; priority: number; updatedAt: number } | undefined> {
  const [r] = await exec.all("SELECT workspace_id, name, priority, updated_at FROM providers WHERE id = ?", [id]);
  return r && { workspaceId: String(r.workspace_id), name: String(r.name), priority: Number(r.priority), updatedAt: Number(r.updated_at) };
}

export interface QuotaState {
  workspaceId: string;
  period: string;
  maxCount: number;
  burst: number | null;
}

/** The provider's quota rows (any workspace's), by period. */
export async function quotaRows(exec: SqlExec, providerId: string): Promise<QuotaState[]> {
  const rows = await exec.all("SELECT workspace_id, period, max_count, burst FROM rate_limits WHERE provider_id = ? AND scope = 'provider' ORDER BY period", [providerId]);
  return rows.map((r) => ({ workspaceId: String(r.workspace_id), period: String(r.period), maxCount: Number(r.max_count), burst: numOrNull(r.burst) }));
}

export async function seedCheck(exec: SqlExec, workspaceId: string, providerId: string, status: "healthy" | "degraded" | "unhealthy", checkedAt: number, id = newId("hc")): Promise<string> {
  await exec.run("INSERT INTO health_checks (id, provider_id, workspace_id, status, latency_ms, detail, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)", [
    id,
    providerId,
    workspaceId,
    status,
    7,
    "seeded",
    checkedAt,
  ]);
  return id;
}

/** The provider's checks, newest first: [status, checked_at]. */
export async function checkRows(exec: SqlExec, providerId: string): Promise<[string, number][]> {
  const rows = await exec.all("SELECT status, checked_at FROM health_checks WHERE provider_id = ? ORDER BY checked_at DESC, id DESC", [providerId]);
  return rows.map((r) => [String(r.status), Number(r.checked_at)]);
}

export async function breakerRow(exec: SqlExec, providerId: string) {
  const [r] = await exec.all("SELECT workspace_id, state, failure_count, success_count, last_failure_at, state_changed_at FROM circuit_breakers WHERE provider_id = ?", [providerId]);
  return (
    r && {
      workspaceId: String(r.workspace_id),
      state: String(r.state),
      failureCount: Number(r.failure_count),
      successCount: Number(r.success_count),
      lastFailureAt: numOrNull(r.last_failure_at),
      stateChangedAt: Number(r.state_changed_at),
    }
  );
}

export async function usageRow(exec: SqlExec, workspaceId: string, day: string): Promise<{ tokens: number; calls: number } | undefined> {
  const [r] = await exec.all("SELECT tokens, calls FROM llm_usage WHERE workspace_id = ? AND day = ?", [workspaceId, day]);
  return r && { tokens: Number(r.tokens), calls: Number(r.calls) };
}

export async function personalizationOf(exec: SqlExec, messageId: string): Promise<unknown> {
  const [r] = await exec.all("SELECT personalization FROM messages WHERE id = ?", [messageId]);
  return json(r?.personalization);
}

export async function setLlmKey(exec: SqlExec, workspaceId: string, enc: string): Promise<void> {
  await exec.run("INSERT INTO workspace_security (workspace_id, llm_api_key_enc, updated_at) VALUES (?, ?, ?)", [workspaceId, enc, 1]);
}
