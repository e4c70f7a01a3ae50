// Provider quotas: what a provider accepts per day (and optionally per second) before it starts
// refusing. Defaults follow the providers' own published limits: Gmail (Google Workspace) about
// 2,000 recipients a day per mailbox; Mailgun plans commonly 100,000 a day. Sandbox and SMTP
// smarthosts have none unless configured.
import type { LimitRule } from "./ledger";

export interface ProviderQuota {
  daily: number | null;
  perSecond: number | null;
}

export const DEFAULT_QUOTAS: Record<string, ProviderQuota> = {
  gmail: { daily: 2_000, perSecond: null },
  mailgun: { daily: 100_000, perSecond: null },
  smtp: { daily: null, perSecond: null },
  sandbox: { daily: null, perSecond: null },
};

export function quotaFor(type: string, rows: { period: string; maxCount: number }[]): ProviderQuota {
  const base = DEFAULT_QUOTAS[type] ?? { daily: null, perSecond: null };
  const day = rows.find((r) => r.period === "day");
  const second = rows.find((r) => r.period === "second");
  return { daily: day ? day.maxCount : base.daily, perSecond: second ? second.maxCount : base.perSecond };
}

export function quotaRules(q: ProviderQuota): LimitRule[] {
  const rules: LimitRule[] = [];
  if (q.perSecond !== null) rules.push({ name: "provider:rate", kind: "rate", perSecond: q.perSecond, burst: q.perSecond });
  if (q.daily !== null) rules.push({ name: "provider:day", kind: "window", period: "day", max: q.daily });
  return rules;
}
