// One end-to-end run: N messages accepted and delivered, through the relay or the minimal
// consumer, with its throughput, latency and workerd CPU (split into accept and delivery).
import { cpuMs } from "./proc.mjs";
import { sendN } from "./load.mjs";
import { BARE_HOST } from "./relay.mjs";
import { percentile } from "./stats.mjs";
import { apiBody, bareBody, recipients } from "./messages.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The isolate of each kind, for the inspector. */
export const ISOLATE = { relay: "core:user:relay", minimal: "core:user:bench-bare" };

export const maxRowid = async (relay) => (await relay.query("SELECT coalesce(max(rowid), 0) AS m FROM messages"))[0].m;

/**
 * N messages accepted at `connections` in flight and delivered to the Mailgun simulator, through
 * the relay ("relay") or the minimal consumer ("minimal"). Throughput is N over first accept →
 * last sent; latency is each message's queued_at → its last recipient's sent_at.
 */
export async function endToEnd(relay, pids, kind, workspaces, rcpts, n, { simReset, connections }) {
  await simReset();
  const since = await maxRowid(relay);
  const c0 = cpuMs(pids);
  const wall0 = Date.now();
  const send = await sendN(n, connections, (i) => {
    const ws = workspaces[i % workspaces.length];
    const to = recipients(rcpts, `p${i}`);
    return kind === "relay"
      ? { url: `${relay.url}/v1/messages`, init: { method: "POST", headers: { authorization: `Bearer ${ws.key}`, "content-type": "application/json" }, body: apiBody(ws, to) } }
      : { url: `${relay.url}/write`, init: { method: "POST", headers: { host: BARE_HOST, "content-type": "application/json" }, body: bareBody(ws, to) } };
  });
  const accepted = n - send.failures.length;
  // The split of the CPU between accepting and delivering, from this same run: once the last
  // accept has answered, the process does only delivery, so the tail's CPU over the messages sent
  // in the tail is delivery alone, and what the accept window used beyond that many deliveries is
  // accept. Approximate: a batch in flight at the boundary has done part of its work before it.
  const cAccepted = cpuMs(pids);
  const sentAtAccepted = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND status = 'sent'", since))[0].c;
  const deadline = Date.now() + 90_000;
  let sent = 0;
  while (Date.now() < deadline) {
    sent = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND status = 'sent'", since))[0].c;
    if (sent >= accepted) break;
    await sleep(200);
  }
  const cEnd = cpuMs(pids);
  const cpu = cEnd - c0;
  const tail = sent - sentAtAccepted;
  const deliveryCpu = tail > 0 ? (cEnd - cAccepted) / tail : NaN;
  const rows = await relay.query(
    "SELECT m.queued_at AS q, max(coalesce(r.sent_at, m.updated_at)) AS s FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE m.rowid > ? AND m.status = 'sent' GROUP BY m.id",
    since,
  );
  const lat = rows.map((r) => r.s - r.q);
  const first = Math.min(...rows.map((r) => r.q));
  const last = Math.max(...rows.map((r) => r.s));
  return {
    kind,
    n,
    accepted,
    accept_failures: send.failures.slice(0, 3),
    sent,
    msgs_per_s: sent / Math.max(0.001, (last - first) / 1000),
    wall_s: (Date.now() - wall0) / 1000,
    p50_ms: percentile(lat, 50),
    p99_ms: percentile(lat, 99),
    cpu_ms_per_msg: cpu / Math.max(1, sent),
    // Meaningful when a good part of the messages is sent after the last accept (tail_msgs).
    delivery_cpu_ms_per_msg: deliveryCpu,
    accept_cpu_ms_per_msg: (cAccepted - c0 - sentAtAccepted * deliveryCpu) / Math.max(1, accepted),
    tail_msgs: tail,
  };
}
