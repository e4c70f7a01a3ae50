// Failure injection shared by the simulators: a list of rules, each matching one endpoint
// (optionally one scope: a Mailgun domain, a Gmail sender mailbox, an SMTP envelope sender)
// and answering with a fixed status, after a delay, never, or by dropping the connection.

// One seeded RNG for the project: failure percentages replay exactly with --seed.
import { seededRng } from "../../core/routing/strategies";

export type FaultTarget =
  | "mailgun"
  | "mailgun-domain"
  | "mailgun-events"
  | "gmail-token"
  | "gmail-send"
  | "smtp-connect"
  | "smtp-auth"
  | "smtp-mail"
  | "smtp-rcpt"
  | "smtp-data"
  | "openai";

export interface FaultRule {
  target: FaultTarget;
  /** Only requests in this scope; omitted = every request to the target. smtp-connect ignores it. */
  scope?: string;
  /** smtp-rcpt: only this recipient address (case-insensitive). */
  match?: string;
  /** HTTP status, or SMTP reply code. Omitted with action "respond": only latencyMs applies. */
  status?: number;
  /** HTTP: JSON body (or a string); SMTP: reply text. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Delay before answering (or before normal handling when no status is set). */
  latencyMs?: number;
  /**
   * "timeout": never answer; "drop": close the connection without answering.
   * "accept_then_timeout" (Mailgun only): take and record the message, then never answer — a
   * provider that got the message while its answer was lost (the record says `unanswered`).
   */
  action?: "respond" | "timeout" | "drop" | "accept_then_timeout";
  /** Chance in percent that a matching request is affected; default 100. */
  percent?: number;
  /** Affect only the next N matching requests, then expire. */
  times?: number;
  /** openai: spoil the answer this way (see openai-sim.ts). */
  llm?: "drop_placeholder" | "add_link" | "not_json" | "too_long";
  /** openai: report this many total tokens used. */
  usageTotalTokens?: number;
}

interface StoredRule extends FaultRule {
  id: number;
  remaining: number;
}

export class FaultTable {
  private rules: StoredRule[] = [];
  private nextId = 1;
  /** Deterministic when seeded, so percentage tests and benchmarks are repeatable. */
  private random: () => number;

  constructor(seed?: number) {
    this.random = seed === undefined ? Math.random : seededRng(seed);
  }

  add(rule: FaultRule): number {
    const id = this.nextId++;
    this.rules.push({ ...rule, id, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  /** Removes every rule, or only the rules of one scope. */
  clear(scope?: string): void {
    this.rules = scope === undefined ? [] : this.rules.filter((r) => r.scope !== scope);
  }

  list(): FaultRule[] {
    return this.rules.map(({ id: _id, remaining: _r, ...rule }) => rule);
  }

  /** The first live rule for this request, consuming one of its `times`. */
  pick(target: FaultTarget, scope: string | undefined, match?: string): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.target !== target || r.remaining <= 0) continue;
      if (r.scope !== undefined && target !== "smtp-connect" && r.scope.toLowerCase() !== (scope ?? "").toLowerCase()) continue;
      if (r.match !== undefined && r.match.toLowerCase() !== (match ?? "").toLowerCase()) continue;
      if ((r.percent ?? 100) < 100 && this.random() * 100 >= (r.percent ?? 100)) continue;
      r.remaining--;
      if (r.remaining <= 0) this.remove(r.id);
      return r;
    }
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

