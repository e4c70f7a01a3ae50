// Bench-only Worker, run in the same Miniflare as the relay with the same D1 database. It is the
// floor the real paths are compared against; it is never deployed.
//   GET  /health  a trivial route (no bindings)
//   GET  /limiter one rate-limit decision in the relay's WorkspaceLimiter Durable Object
//   POST /write   the bare durable write: the same D1 batch the accept path commits for a
//                 one-recipient API message (messages row + message_recipients row) and one
//                 queue send, with no auth, validation, limits or encryption
//   queue         the minimal consumer: read the job's row, one Mailgun call, mark it sent
//   POST /query   {sql, params}: rows from the shared D1 database, for the harness's polling
//                 while load runs (see bench/lib/relay.mjs: query)
// The workspace id, the recipients and a pre-rendered MIME body come from the request (JSON),
// so the write does no work the relay does not do.

const id = (prefix) => {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `${prefix}_${btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
};

async function write(env, input) {
  const now = Date.now();
  const messageId = id("msg");
  const recipients = input.to.map((email) => ({ id: id("mr"), email }));
  const stmts = [
    env.DB.prepare(
      "INSERT INTO messages (id, workspace_id, user_id, api_key_id, source, message_id_header, from_email, envelope_from, to_emails, status, tags, metadata, body_enc, size_bytes, force_send, enqueued_at, queued_at, updated_at) VALUES (?, ?, NULL, NULL, 'api', ?, ?, ?, ?, 'queued', '[]', '{}', ?, ?, 0, ?, ?, ?)",
    ).bind(messageId, input.workspace_id, `<${messageId}@${input.domain}>`, input.from, input.from, JSON.stringify(input.to), input.body, input.body.length, now, now, now),
  ];
  // Eight recipients per statement, as the relay chunks them (D1's 100 bound parameters).
  for (let i = 0; i < recipients.length; i += 8) {
    const chunk = recipients.slice(i, i + 8);
    stmts.push(
      env.DB.prepare(
        `INSERT INTO message_recipients (id, message_id, workspace_id, email, kind, status, updated_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, 'to', 'queued', ?)").join(", ")}`,
      ).bind(...chunk.flatMap((r) => [r.id, messageId, input.workspace_id, r.email, now])),
    );
  }
  await env.DB.batch(stmts);
  await env.BARE_QUEUE.send({ v: 1, workspace_id: input.workspace_id, message_id: messageId });
  return messageId;
}

async function deliver(env, job) {
  const row = await env.DB.prepare("SELECT id, to_emails, body_enc FROM messages WHERE id = ? AND workspace_id = ?")
    .bind(job.message_id, job.workspace_id)
    .first();
  if (!row) return;
  const form = new FormData();
  for (const to of JSON.parse(row.to_emails)) form.append("to", to);
  form.append("message", new Blob([row.body_enc], { type: "message/rfc822" }), "message.mime");
  const res = await fetch(`${env.MAILGUN_BASE_URL}/v3/${env.MAILGUN_DOMAIN}/messages.mime`, {
    method: "POST",
    headers: { authorization: `Basic ${btoa(`api:${env.MAILGUN_API_KEY}`)}` },
    body: form,
  });
  await res.text();
  if (!res.ok) throw new Error(`mailgun ${res.status}`);
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare("UPDATE message_recipients SET status = 'sent', sent_at = ?, updated_at = ? WHERE message_id = ?").bind(now, now, row.id),
    env.DB.prepare("UPDATE messages SET status = 'sent', processed_at = ?, updated_at = ? WHERE id = ?").bind(now, now, row.id),
  ]);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return Response.json({ ok: true });
    // One limiter decision (issue 5's benchmark): check-and-consume in a workspace's Durable
    // Object, exactly the call the accept path makes for the user layer, with a fresh key.
    // ?ws=<name> always hits one object; without it every request picks a new workspace.
    if (url.pathname === "/limiter") {
      const ws = url.searchParams.get("ws") ?? `bench-ws-${crypto.randomUUID()}`;
      const d = await env.WORKSPACE_LIMITER.getByName(ws).consume(
        `user:${crypto.randomUUID()}`,
        [{ name: "user:bench:day", kind: "window", period: "day", max: 1_000_000_000 }],
        1,
        "UTC",
      );
      return Response.json(d);
    }
    if (url.pathname === "/query" && request.method === "POST") {
      const { sql, params = [] } = await request.json();
      const { results } = await env.DB.prepare(sql).bind(...params).all();
      return Response.json(results);
    }
    if (url.pathname === "/write" && request.method === "POST") {
      const messageId = await write(env, await request.json());
      return Response.json({ id: messageId, status: "queued" }, { status: 202 });
    }
    return new Response("not found", { status: 404 });
  },
  async queue(batch, env) {
    await Promise.all(
      batch.messages.map(async (m) => {
        try {
          await deliver(env, m.body);
          m.ack();
        } catch {
          m.retry();
        }
      }),
    );
  },
};
