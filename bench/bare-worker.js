// Bench-only Worker, run in the same Miniflare as the relay with the same D1 database. It is the
// floor the real paths are compared against; it is never deployed. Bundled by esbuild
// (bench/lib/relay.mjs: buildBare), so it can call the relay's own storage code.
//   GET  /health  a trivial route (no bindings)
//   GET  /limiter one rate-limit decision in the relay's WorkspaceLimiter Durable Object
//   POST /write   the bare durable write: the accept path's own D1 batch (db/messages/accept.ts:
//                 insertMessage, the very statements, suppression check included) and one queue
//                 send of the same job, with no auth, validation, limits, settings or encryption
//   queue         the minimal consumer: read the job's row, one Mailgun call, mark it sent
//   POST /query   {sql, params}: rows from the shared D1 database, for the harness's polling
//                 while load runs (see bench/lib/relay.mjs: query)
// The workspace id, the recipients and a pre-rendered MIME body come from the request (JSON),
// so the write does no work the relay does not do.
import { newId } from "../core/ids";
import { deliveryJob } from "../core/jobs";
import { insertMessage } from "../db/messages/accept";

async function write(env, input) {
  const now = Date.now();
  const messageId = newId("msg");
  // insertMessage only uses the raw D1 client (db.$client), never drizzle's query builder.
  await insertMessage(
    { $client: env.DB },
    {
      message: {
        // The same columns as workers/accept.ts writes, so the statement is the same.
        id: messageId,
        workspaceId: input.workspace_id,
        userId: null,
        apiKeyId: null,
        source: "api",
        messageIdHeader: `<${messageId.slice(4)}@${input.domain}>`,
        fromEmail: input.from,
        envelopeFrom: input.from,
        toEmails: input.to,
        status: "queued",
        tags: [],
        metadata: {},
        bodyEnc: input.body,
        bodyR2Key: null,
        sizeBytes: input.body.length,
        forceSend: false,
        personalize: false,
        containsPhi: false,
        enqueuedAt: now,
        queuedAt: now,
        updatedAt: now,
        requestId: null,
        campaignId: null,
      },
      recipients: input.to.map((email) => ({ id: newId("mr"), messageId, workspaceId: input.workspace_id, email, kind: "to", updatedAt: now })),
      headerNames: [],
      attachments: [],
    },
  );
  await env.BARE_QUEUE.send(deliveryJob(input.workspace_id, messageId, input.body.length));
  return messageId;
}

async function deliver(env, job) {
  const row = await env.DB.prepare("SELECT id, to_emails, body_enc FROM messages WHERE id = ? AND workspace_id = ?")
    .bind(job.messageId, job.workspaceId)
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
