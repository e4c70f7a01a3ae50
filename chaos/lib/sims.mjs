// The provider simulators under chaos (test/simulators, started by bench/lib/relay.mjs's
// startSimulators) and the faults the suite injects through their control API.
import { request } from "../../bench/lib/load.mjs";

export function simControl(httpUrl) {
  const call = async (method, p, body) => {
    const res = await request(`${httpUrl}/__sim${p}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`simulator ${method} ${p}: ${res.status} ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text);
  };
  return {
    addFaults: (rules) => call("POST", "/faults", rules),
    clearFaults: (scope) => call("DELETE", `/faults?scope=${encodeURIComponent(scope)}`),
    received: (kind) => call("GET", `/received?kind=${kind}`),
    counts: (scope) => call("GET", `/counts${scope ? `?scope=${encodeURIComponent(scope)}` : ""}`),
  };
}

/** Scope name of the outage rules (smtp-connect ignores scopes when matching, so it only labels them). */
export const OUTAGE_SCOPE = "chaos-p2-outage";

/**
 * Provider 1 (Mailgun): `errorPct` % answered 503 and `hangPct` % never answered (the relay's
 * timeout fires; nothing is recorded, as a provider that never got the message). Rules are tried
 * in order, so the 503 rule's share is of the calls that did not hang.
 */
export function flakyRules(domain, { errorPct, hangPct, latePct = 0 }) {
  const rules = [];
  // Each rule sees only the calls the rules before it let through: scale to a share of all calls.
  let left = 100;
  const share = (pct) => {
    const p = Math.min(100, (pct / left) * 100);
    left -= pct;
    return p;
  };
  if (hangPct > 0) rules.push({ target: "mailgun", scope: domain, action: "timeout", percent: share(hangPct) });
  // Taken and recorded, never answered: the relay cannot know the message went out.
  if (latePct > 0) rules.push({ target: "mailgun", scope: domain, action: "accept_then_timeout", percent: share(latePct) });
  if (errorPct > 0) rules.push({ target: "mailgun", scope: domain, status: 503, body: { message: "chaos: service unavailable" }, percent: share(errorPct) });
  return rules;
}

/** Provider 2 down: an SMTP sink that refuses every connection (421), or a Mailgun domain answering 503 (its health probe too). */
export function outageRules(p2) {
  if (p2.type === "smtp") return [{ target: "smtp-connect", scope: OUTAGE_SCOPE, status: 421, body: "4.3.2 chaos: service not available" }];
  return [
    { target: "mailgun", scope: p2.domain, status: 503, body: { message: "chaos: outage" } },
    { target: "mailgun-domain", scope: p2.domain, status: 503, body: { message: "chaos: outage" } },
  ];
}

/**
 * Every delivery the simulators recorded, as { chaosId, rcpt, at, provider }: one per envelope
 * recipient (Mailgun's `to`, the sink's RCPT TO), keyed by the X-Chaos-Id header (or the subject).
 */
export async function deliveries(sim, providers) {
  const out = [];
  const chaosIdOf = (parsed) =>
    parsed?.headers?.find((h) => h.key === "x-chaos-id")?.value?.trim() ?? /chaos (chaos-\S+)/.exec(parsed?.subject ?? "")?.[1] ?? null;
  const byDomain = new Map(providers.filter((p) => p.type === "mailgun").map((p) => [p.domain.toLowerCase(), p.name]));
  const smtpName = providers.find((p) => p.type === "smtp")?.name;
  for (const r of await sim.received("mailgun")) {
    const provider = byDomain.get(r.domain.toLowerCase());
    if (!provider) continue;
    for (const rcpt of r.to) out.push({ chaosId: chaosIdOf(r.parsed), rcpt: rcpt.toLowerCase(), at: r.at, provider, unanswered: r.unanswered === true });
  }
  if (smtpName) {
    for (const r of await sim.received("smtp")) {
      for (const rcpt of r.rcptTo) out.push({ chaosId: chaosIdOf(r.parsed), rcpt: rcpt.toLowerCase(), at: r.at, provider: smtpName });
    }
  }
  return out;
}
