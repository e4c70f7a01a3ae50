// What the suite sends: N logical messages over the HTTP API and the SMTP bridge, each retried
// (same Idempotency-Key / same Message-ID and bytes) until the relay answers 2xx/250, refuses it
// for good (4xx other than 429 / 5xx SMTP), or the send deadline passes. A retry after a lost
// answer must come back as the first answer, never as a second message.
import { createTransport } from "nodemailer";
import { request } from "../../bench/lib/load.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A deterministic generator (mulberry32), so a seed replays the same mix. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The plan: every message's channel ("api", "smtp", or "split": one Message-ID whose recipients
 * go over several SMTP transactions, as Postfix does past 50 recipients) and recipients.
 */
export function plan({ n, runId, random, smtpShare, splitShare, domain }) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const messages = [];
  for (let i = 0; i < n; i++) {
    const u = random();
    const channel = u < splitShare ? "split" : u < splitShare + smtpShare ? "smtp" : "api";
    const count = channel === "split" ? int(3, 6) : int(1, 5);
    const chaosId = `chaos-${runId}-${i}`;
    const recipients = Array.from({ length: count }, (_, j) => `m${i}.r${j}@rcpt${j % 3}.example.net`);
    const m = { i, chaosId, channel, recipients, from: `noreply@${domain}`, messageIdHeader: `<${chaosId}@${domain}>`, transactions: [] };
    if (channel === "split") {
      // 2-3 transactions; half of the split messages send them side by side (parallel delivery agents).
      const parts = Math.min(count, int(2, 3));
      const chunks = Array.from({ length: parts }, () => []);
      recipients.forEach((r, j) => chunks[j % parts].push(r));
      m.parallel = random() < 0.5;
      m.transactions = chunks.map((rcpts) => ({ rcpts }));
    } else {
      m.transactions = [{ rcpts: recipients }];
    }
    messages.push(m);
  }
  return messages;
}

export function rawMessage(m) {
  return [
    `From: Clinic <${m.from}>`,
    `To: ${m.recipients.join(", ")}`,
    `Subject: chaos ${m.chaosId}`,
    `Date: ${new Date(0).toUTCString()}`,
    `Message-ID: ${m.messageIdHeader}`,
    `X-Chaos-Id: ${m.chaosId}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Chaos suite message ${m.chaosId}.`,
    "",
  ].join("\r\n");
}

/**
 * Sends one transaction until it is answered for good. Records on `tx`: status
 * "accepted" | "refused" | "gave_up", the relay id, tries, and when it was accepted.
 */
async function sendApi(ctx, m, tx) {
  const body = JSON.stringify({
    from: `Clinic <${m.from}>`,
    to: tx.rcpts,
    subject: `chaos ${m.chaosId}`,
    text: `Chaos suite message ${m.chaosId}.`,
    headers: { "X-Chaos-Id": m.chaosId },
  });
  const headers = { authorization: `Bearer ${ctx.key}`, "content-type": "application/json", "idempotency-key": m.chaosId };
  while (true) {
    tx.tries = (tx.tries ?? 0) + 1;
    try {
      const res = await request(`${ctx.base}/v1/messages`, { method: "POST", headers, body });
      if (res.status === 202) {
        const j = JSON.parse(res.text);
        return Object.assign(tx, { status: "accepted", id: j.id, acceptedAt: Date.now(), answer: j });
      }
      tx.lastError = `${res.status} ${res.text.slice(0, 200)}`;
      if (res.status < 500 && res.status !== 429 && res.status !== 408) return Object.assign(tx, { status: "refused" });
    } catch (e) {
      tx.lastError = String(e.code ?? e.message ?? e);
    }
    if (Date.now() > ctx.deadline) return Object.assign(tx, { status: "gave_up" });
    await sleep(Math.min(2000, 200 * tx.tries));
  }
}

async function sendSmtp(ctx, m, tx) {
  const raw = rawMessage(m);
  while (true) {
    tx.tries = (tx.tries ?? 0) + 1;
    // One connection per try (a legacy client reconnects after an error; a killed bridge ends it).
    const transport = createTransport({
      host: "127.0.0.1",
      port: ctx.smtpPort,
      secure: false,
      ignoreTLS: true,
      auth: { user: "api", pass: ctx.key },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 45_000,
    });
    try {
      const info = await transport.sendMail({ envelope: { from: m.from, to: tx.rcpts }, raw });
      const id = /queued as (\S+)/.exec(info.response ?? "")?.[1];
      if (info.rejected?.length) tx.partlyRejected = info.rejected;
      return Object.assign(tx, { status: "accepted", id, acceptedAt: Date.now(), answer: info.response });
    } catch (e) {
      tx.lastError = `${e.responseCode ?? e.code ?? ""} ${String(e.response ?? e.message).slice(0, 200)}`;
      if (e.responseCode >= 500 && e.responseCode < 600 && e.code !== "EAUTH") return Object.assign(tx, { status: "refused" });
    } finally {
      transport.close();
    }
    if (Date.now() > ctx.deadline) return Object.assign(tx, { status: "gave_up" });
    await sleep(Math.min(2000, 200 * tx.tries));
  }
}

async function sendMessage(ctx, m) {
  m.startedAt = Date.now();
  if (m.channel === "api") return sendApi(ctx, m, m.transactions[0]);
  if (m.parallel) return Promise.all(m.transactions.map((tx) => sendSmtp(ctx, m, tx)));
  for (const tx of m.transactions) await sendSmtp(ctx, m, tx);
}

/** Sends every planned message with `apiConcurrency` + `smtpConcurrency` senders in flight. */
export async function sendAll(ctx, messages, { apiConcurrency, smtpConcurrency, onProgress }) {
  const queues = { api: messages.filter((m) => m.channel === "api"), smtp: messages.filter((m) => m.channel !== "api") };
  let done = 0;
  const worker = async (q) => {
    while (q.length) {
      const m = q.shift();
      await sendMessage(ctx, m);
      done++;
      onProgress?.(done);
    }
  };
  await Promise.all([
    ...Array.from({ length: apiConcurrency }, () => worker(queues.api)),
    ...Array.from({ length: smtpConcurrency }, () => worker(queues.smtp)),
  ]);
}
