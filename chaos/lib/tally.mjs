// The verdict: what the relay answered 2xx/250 for, against what really reached the simulators
// and what the relay reports per recipient.
const FAILED = new Set(["failed", "bounced", "rejected", "complained", "suppressed", "cancelled"]);
const SENT = new Set(["sent", "delivered"]);
const PENDING = new Set(["queued", "sending", "deferred"]);

const addr = (s) => (/<([^>]+)>/.exec(s)?.[1] ?? s).trim().toLowerCase();

/**
 * `messages`: the plan with each transaction's outcome; `details`: relay id → GET /v1/messages/{id};
 * `delivered`: simulator deliveries; `kills`: SIGKILL times (ms). A second delivery of one
 * recipient is "by kill" when a kill fell between the two deliveries within `killWindowMs` after
 * the earlier one (the relay died with that call in flight or its answer not yet recorded),
 * otherwise "other".
 */
export function tally({ messages, details, delivered, kills, killWindowMs, providers = [] }) {
  const providerName = new Map(providers.map((p) => [p.id, p.name]));
  const byKey = new Map();
  for (const d of delivered) {
    const k = `${d.chaosId}|${addr(d.rcpt)}`;
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k).push(d);
  }
  const t = {
    logical: messages.length,
    channels: { api: 0, smtp: 0, split: 0 },
    transactions: 0,
    tx_accepted: 0,
    tx_refused: 0,
    tx_gave_up: 0,
    tx_retried: 0,
    accepted_recipients: 0,
    sent: 0,
    failed_reported: 0,
    lost: 0,
    lost_pending: 0,
    lost_reported_sent: 0,
    delivered_but_reported_failed: 0,
    duplicate_by_kill: 0,
    duplicate_by_kill_elsewhere: 0,
    duplicate_other: 0,
    duplicate_after_unanswered: 0,
    extra_deliveries: 0,
    delivered_unacknowledged: 0,
    status_counts: {},
    by_provider: {},
    examples: { lost: [], duplicate_other: [], duplicate_by_kill: [], duplicate_by_kill_elsewhere: [], duplicate_after_unanswered: [], refused: [] },
  };
  const acceptedKeys = new Set();
  const keep = (list, x) => list.length < 10 && list.push(x);
  for (const m of messages) {
    t.channels[m.channel]++;
    for (const tx of m.transactions) {
      t.transactions++;
      if ((tx.tries ?? 0) > 1) t.tx_retried++;
      if (tx.status !== "accepted") {
        t[tx.status === "refused" ? "tx_refused" : "tx_gave_up"]++;
        keep(t.examples.refused, { chaosId: m.chaosId, channel: m.channel, status: tx.status, error: tx.lastError });
        continue;
      }
      t.tx_accepted++;
      const rejected = new Set((tx.partlyRejected ?? []).map(addr));
      const answered = Array.isArray(tx.answer?.recipients) ? new Map(tx.answer.recipients.map((r) => [addr(r.email), r.status])) : null;
      const detail = details.get(tx.id);
      const status = new Map((detail?.recipients ?? []).map((r) => [addr(r.email), r]));
      for (const rcpt of tx.rcpts.map(addr)) {
        if (rejected.has(rcpt)) continue;
        if (answered && answered.get(rcpt) === "suppressed") continue;
        const key = `${m.chaosId}|${rcpt}`;
        if (acceptedKeys.has(key)) continue; // the same recipient accepted twice (a replay): one promise
        acceptedKeys.add(key);
        t.accepted_recipients++;
        const r = status.get(rcpt);
        const s = r?.status ?? (detail ? "missing_recipient" : "missing_message");
        t.status_counts[s] = (t.status_counts[s] ?? 0) + 1;
        const got = (byKey.get(key) ?? []).sort((a, b) => a.at - b.at);
        for (const d of got) t.by_provider[d.provider] = (t.by_provider[d.provider] ?? 0) + 1;
        if (got.length > 0) {
          t.sent++;
          if (FAILED.has(s)) t.delivered_but_reported_failed++;
        } else if (FAILED.has(s)) {
          t.failed_reported++;
        } else {
          t.lost++;
          if (PENDING.has(s)) t.lost_pending++;
          if (SENT.has(s)) t.lost_reported_sent++;
          keep(t.examples.lost, { chaosId: m.chaosId, rcpt, relay_id: tx.id, status: s, channel: m.channel, attempts: r?.attempts, last_error: r?.last_error });
        }
        if (got.length > 1) {
          t.extra_deliveries += got.length - 1;
          let other = false;
          let unanswered = false;
          for (let i = 1; i < got.length; i++) {
            const prev = got[i - 1].at;
            const next = got[i].at;
            if (got[i - 1].unanswered) unanswered = true;
            else if (!kills.some((k) => k >= prev && k <= next && k - prev <= killWindowMs)) other = true;
          }
          const ex = { chaosId: m.chaosId, rcpt, relay_id: tx.id, channel: m.channel, at: got.map((d) => `${new Date(d.at).toISOString()} ${d.provider}`), relay_attempts: (detail?.attempts ?? []).map((a) => `${a.started_at} ${a.outcome} ${a.provider_id ?? ""} (${(a.recipients ?? []).length} rcpt)`) };
          if (other) (t.duplicate_other++, keep(t.examples.duplicate_other, ex));
          else if (unanswered) (t.duplicate_after_unanswered++, keep(t.examples.duplicate_after_unanswered, ex));
          else {
            t.duplicate_by_kill++;
            keep(t.examples.duplicate_by_kill, ex);
            // The README promises the resend goes first to the provider the lapsed call was on:
            // the relay's first attempt with a provider after the first copy arrived.
            const next = (detail?.attempts ?? [])
              .filter((a) => a.provider_id && Date.parse(a.started_at) > got[0].at)
              .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at))[0];
            if (next && providerName.get(next.provider_id) !== got[0].provider) {
              t.duplicate_by_kill_elsewhere++;
              keep(t.examples.duplicate_by_kill_elsewhere, { ...ex, first_copy_on: got[0].provider, resent_first_to: providerName.get(next.provider_id) ?? next.provider_id });
            }
          }
        }
      }
    }
  }
  // Deliveries nobody was promised: a transaction whose answer the kill swallowed and whose
  // retries gave up (the relay had stored it), or a recipient never submitted at all.
  const unpromised = new Set();
  for (const key of byKey.keys()) if (!acceptedKeys.has(key)) unpromised.add(key);
  t.delivered_unacknowledged = unpromised.size;
  return t;
}

const row = (a, b, c = "") => `| ${a} | ${b} | ${c} |`;
const s1 = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "–");

export function renderTable(t, run) {
  const L = [];
  L.push(`Chaos run ${run.started_at}, relay source ${run.source}; ${run.settings}`);
  L.push("");
  L.push("| measure | value | |");
  L.push("|---|---|---|");
  L.push(row("messages planned (API / SMTP / SMTP split over several transactions)", `${t.logical} (${t.channels.api} / ${t.channels.smtp} / ${t.channels.split})`));
  L.push(row("transactions: accepted (2xx/250) / refused / gave up", `${t.tx_accepted} / ${t.tx_refused} / ${t.tx_gave_up} of ${t.transactions}`, `${t.tx_retried} needed more than one try`));
  L.push(row("kills (SIGKILL of the relay's process group; times from the start of sending)", `${run.kills.length}`, run.kills.map((k) => `+${s1(k.at - run.t0)} (${k.simCallsInFlight} provider calls in the 300 ms before; up again after ${s1(k.readyAt - k.at)})`).join("; ")));
  L.push(row("**accepted recipients**", `**${t.accepted_recipients}**`));
  L.push(row("sent (reached a simulator)", `${t.sent}`));
  for (const p of run.providers ?? []) {
    const b = p.breaker;
    const pct = (x) => (b?.n ? `${Math.round((x / b.n) * 100)}%` : "–");
    L.push(row(`provider ${p.name}`, `${t.by_provider[p.name] ?? 0} recipients delivered`, `the simulator saw ${p.calls} (faulted ones included); breaker open in ${pct(b?.open ?? 0)}, half-open in ${pct(b?.half_open ?? 0)} of ${b?.n ?? 0} samples (every 5 s)${b?.unhealthy_checks ? `; health check not healthy in ${pct(b.unhealthy_checks)}` : ""}`));
  }
  L.push(row("failed, reported (relay status failed/bounced/…, never delivered)", `${t.failed_reported}`));
  L.push(row("**lost** (accepted, never delivered, not reported failed)", `**${t.lost}**`, t.lost ? `${t.lost_pending} still pending at the end, ${t.lost_reported_sent} reported sent` : ""));
  L.push(row("duplicate-by-kill (a kill fell while its first call was in flight or before its outcome was written)", `${t.duplicate_by_kill}`, t.duplicate_by_kill ? `${t.duplicate_by_kill_elsewhere} of them resent first to another provider than the one that took the first copy` : ""));
  if (run.latePct > 0) L.push(row("duplicate after an unanswered call (provider 1 took the message, its answer never came: `CHAOS_P1_LATE_PCT`)", `${t.duplicate_after_unanswered}`));
  L.push(row("**duplicate-other**", `**${t.duplicate_other}**`));
  L.push(row("delivered but reported failed", `${t.delivered_but_reported_failed}`));
  L.push(row("delivered without a 2xx/250 to the sender (answer lost in a kill)", `${t.delivered_unacknowledged}`));
  L.push(row("time to all-final after the last kill", run.finalAfterLastKillMs === null ? `not final within ${s1(run.finalTimeoutMs)}` : s1(run.finalAfterLastKillMs)));
  L.push(row("relay statuses of accepted recipients", Object.entries(t.status_counts).map(([s, n]) => `${s} ${n}`).join(", ")));
  L.push(row("error lines in the relay's log", `${run.relayLogErrors.count}`, run.relayLogErrors.count ? "first ones printed below the table" : ""));
  L.push(row("whole run", s1(run.durationMs), `send phase ${s1(run.sendMs)}`));
  L.push("");
  L.push(t.lost === 0 && t.duplicate_other === 0 ? "PASS: lost = 0 and duplicate-other = 0" : `FAIL: lost = ${t.lost}, duplicate-other = ${t.duplicate_other}`);
  return L.join("\n");
}
