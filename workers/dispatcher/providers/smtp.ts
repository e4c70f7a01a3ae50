// SMTP smarthost provider: submits the rendered message to a configured relay host
// (implicit TLS on 465, STARTTLS on 587/2525, or plain for loopback tests) with AUTH.
import { isLoopbackHost, smtpHostProblem } from "./transport";
import { z } from "zod";
import { describeError, permanent, totalSignal, transient } from "./outcome";
import { describeUnsafeData, encodeDataPayload, SmtpCapabilityError, SmtpClient, SmtpConnectionError, SmtpReplyError, type SmtpReply } from "./smtp-client";
import { fromOutcome, healthy, probeTimeout } from "./probe";
import type { PooledSession } from "./smtp-sessions";
import type { OutboundMessage, ProbeContext, ProbeResult, Provider, ProviderContext, SendResult } from "./types";

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/i, "must be a host name or IP address");

export const smtpConfigSchema = z
  .object({
    host: hostname,
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .refine((p) => p !== 25, {
        message: "port 25 is blocked for outbound connections on Cloudflare Workers; use the relay's submission port (587 with STARTTLS, or 465 with implicit TLS)",
      }),
    security: z.enum(["tls", "starttls", "none"]),
    username: z.string().min(1).max(512).regex(/^[^\r\n]+$/).optional(),
    /** EHLO name; defaults to the envelope sender's domain. */
    helo_name: hostname.optional(),
    timeout_ms: z.number().int().min(1000).max(300_000).default(30_000),
    /** AUTH over an unencrypted connection sends the password in clear; only for loopback tests. */
    allow_plaintext_auth: z.boolean().default(false),
    /** Envelope sender bounces+<delivery id>@BOUNCE_DOMAIN, so bounces can be matched (needs BOUNCE_DOMAIN routed to the relay). */
    verp: z.boolean().default(true),
    /**
     * Sessions open at once to this server from one delivery batch; the batch's messages share
     * them (one connection, TLS handshake and AUTH carry many messages).
     */
    max_connections: z.number().int().min(1).max(50).default(10),
  })
  .strict()
  .superRefine((c, ctx) => {
    // The outbound URL policy's host rule (core/url-policy.ts): no private, link-local or
    // reserved address, nor an IPv6 form embedding one (NAT64, 6to4, IPv4-mapped).
    const problem = smtpHostProblem(c.host);
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["host"] });
  })
  .refine((c) => c.security !== "none" || isLoopbackHost(c.host), {
    message: 'security "none" is allowed only for a loopback test server; use "tls" or "starttls"',
    path: ["security"],
  })
  .refine((c) => !(c.username && c.security === "none" && !c.allow_plaintext_auth), {
    message: 'AUTH needs security "tls" or "starttls" (the password would cross the network in clear)',
    path: ["security"],
  });
export type SmtpConfig = z.infer<typeof smtpConfigSchema>;
export type SmtpConfigInput = z.input<typeof smtpConfigSchema>;

export const smtpCredentialsSchema = z.object({
  password: z.string().min(1).max(1024).optional(),
}).strict();
export type SmtpCredentials = z.infer<typeof smtpCredentialsSchema>;

function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(" ")}`.trim().slice(0, 300);
}

function isAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b > 127) return false;
  return true;
}

function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  const d = at >= 0 ? address.slice(at + 1) : "";
  return /^[a-z0-9.-]+$/i.test(d) ? d : undefined;
}

function classifyFailure(e: unknown, host: string): SendResult {
  if (e instanceof SmtpReplyError) {
    const text = `SMTP ${host} ${e.stage}: ${replyText(e.reply)}`;
    if (e.stage === "AUTH") {
      // 454 is "temporary authentication failure"; 5xx means the credentials are wrong.
      return e.reply.code >= 500 ? permanent(`${text} (credentials rejected)`, { configuration: true }) : transient(text);
    }
    if (e.reply.code >= 400 && e.reply.code < 500) return transient(text);
    if (e.stage === "greeting" || e.stage === "EHLO" || e.stage === "HELO" || e.stage === "STARTTLS") {
      // A server that refuses the session may be blocklisting us for a while; retry rather than drop mail.
      return transient(text);
    }
    // 530 at MAIL: the relay wants AUTH we did not do.
    if (e.reply.code === 530) return permanent(`${text} (the relay requires authentication)`, { configuration: true });
    return permanent(text);
  }
  if (e instanceof SmtpCapabilityError) return permanent(`SMTP ${host}: ${e.message}`, { configuration: true });
  if (e instanceof SmtpConnectionError) return transient(`SMTP ${host} ${e.message}`);
  return transient(`SMTP ${host}: ${describeError(e)}`);
}

/** `owner`: the provider row (workspace/provider id); sessions are shared only within it. */
export function createSmtpProvider(configInput: SmtpConfigInput, credentials: SmtpCredentials = {}, owner = ""): Provider {
  const config = smtpConfigSchema.parse(configInput);
  const creds = smtpCredentialsSchema.parse(credentials);
  if (config.username && !creds.password) throw new Error("SMTP provider: a username is configured but no password");
  const where = `${config.host}:${config.port}`;

  /** Connect, EHLO (STARTTLS) and AUTH as configured, all within the call's deadline. */
  const open = async (heloName: string, deadline: AbortSignal): Promise<SmtpClient> => {
    const client = await SmtpClient.open({ host: config.host, port: config.port, security: config.security, heloName, timeoutMs: config.timeout_ms, signal: deadline });
    const release = client.guard(deadline);
    try {
      if (config.username) await client.authenticate(config.username, creds.password ?? "");
    } catch (e) {
      await client.abort();
      throw e;
    } finally {
      release();
    }
    return client;
  };

  /**
   * One mail transaction on an open session. `reusable`: the session is between transactions
   * and may carry the batch's next message; otherwise it has been closed.
   */
  const transact = async (client: SmtpClient, message: OutboundMessage, payload: Uint8Array): Promise<{ result: SendResult; reusable: boolean }> => {
    const sizeCap = Number(client.capabilities.get("SIZE") ?? "0");
    if (sizeCap > 0 && payload.length > sizeCap) {
      return { result: permanent(`SMTP ${where}: message of ${payload.length} bytes exceeds the relay's SIZE limit of ${sizeCap}`), reusable: true };
    }
    let mail = `MAIL FROM:<${message.envelopeFrom}>`;
    if (client.capabilities.has("SIZE")) mail += ` SIZE=${payload.length}`;
    if (client.capabilities.has("8BITMIME") && !isAscii(message.raw)) mail += " BODY=8BITMIME";
    const rcptLines = message.recipients.map((r) => `RCPT TO:<${r}>`);
    // With PIPELINING (RFC 2920) the envelope and DATA go in one write and their replies are read
    // in order: one round trip instead of two plus one per recipient, which is what a reused
    // session's message costs over a long path.
    const pipelined = client.capabilities.has("PIPELINING");
    let rcptReplies: SmtpReply[];
    let dataReply: SmtpReply | undefined;
    if (pipelined) {
      await client.send([mail, ...rcptLines, "DATA"], "MAIL");
      // A refused MAIL ends it here: thrown errors close the session (the caller aborts it), so
      // the replies still unread, a 354 among them, are never followed by data.
      const mailReply = await client.read("MAIL");
      if (mailReply.code !== 250) throw new SmtpReplyError("MAIL", mailReply);
      rcptReplies = [];
      for (let i = 0; i < rcptLines.length; i++) rcptReplies.push(await client.read("RCPT"));
      dataReply = await client.read("DATA");
    } else {
      await client.expect(mail, "MAIL", [250]);
      rcptReplies = [];
      for (const line of rcptLines) rcptReplies.push(await client.command(line, "RCPT"));
    }

    const rejected: { email: string; reason: string }[] = [];
    const deferred: string[] = [];
    message.recipients.forEach((rcpt, i) => {
      const r = rcptReplies[i]!;
      if (r.code === 250 || r.code === 251) return;
      if (r.code >= 500) rejected.push({ email: rcpt, reason: `SMTP ${where} RCPT: ${replyText(r)}` });
      else deferred.push(`${rcpt}: ${replyText(r)}`);
    });
    // SendResult cannot say "sent to some, retry others", so mixed outcomes send nothing:
    // a 4xx anywhere defers the whole send; 5xx-only rejections are reported per recipient
    // and the rest are left for the pipeline to send again without them. Nobody is
    // delivered twice and nobody is silently dropped.
    if (deferred.length > 0 || rejected.length > 0) {
      const result =
        deferred.length > 0
          ? transient(`SMTP ${where} deferred recipients: ${deferred.join("; ").slice(0, 500)}`)
          : permanent(
              rejected.length === message.recipients.length ? `SMTP ${where} rejected every recipient` : `SMTP ${where} rejected ${rejected.length} of ${message.recipients.length} recipients; nothing was sent`,
              { recipients: rejected },
            );
      if (dataReply?.code === 354) {
        // The server took DATA for the recipients it accepted: only closing the connection
        // ends that transaction without delivering (a lone "." would send an empty message).
        await client.abort();
        return { result, reusable: false };
      }
      const reset = await client.command("RSET", "RSET").catch(() => undefined);
      if (reset?.code === 250) return { result, reusable: true };
      await client.quit();
      return { result, reusable: false };
    }

    if (dataReply === undefined) await client.expect("DATA", "DATA", [354]);
    else if (dataReply.code !== 354) throw new SmtpReplyError("DATA", dataReply);
    const final = await client.sendData(payload);
    if (final.code !== 250) {
      await client.quit();
      return { result: classifyFailure(new SmtpReplyError("DATA", final), where), reusable: false };
    }
    return { result: { status: "sent", providerMessageId: queueIdFrom(final) ?? message.messageIdHeader.replace(/^<|>$/g, "") }, reusable: true };
  };

  return {
    type: "smtp",
    async send(message: OutboundMessage, ctx: ProviderContext): Promise<SendResult> {
      if (message.recipients.length === 0) return permanent("no recipients");
      // Controls (NUL among them) and spaces could end or extend an SMTP command line.
      const bad = [message.envelopeFrom, ...message.recipients].find((a) => /[\x00-\x20\x7f<>\s]/.test(a));
      if (bad !== undefined) return permanent("invalid envelope address");
      const heloName = config.helo_name ?? domainOf(message.envelopeFrom) ?? "localhost";
      // Refused before any connection: nothing of such a message ever reaches a server.
      const encoded = encodeDataPayload(message.raw);
      if ("unsafe" in encoded) return permanent(`SMTP ${where}: ${describeUnsafeData(encoded.unsafe)}`);

      // Inside a queue batch: a session of the batch's pool (ctx.sessions, smtp-sessions.ts), keyed by the
      // provider row and everything that shapes the session, credentials included: no two
      // workspaces, and no two accounts, ever share one.
      // timeout_ms bounds the whole call: waiting for a session of the pool, connect, TLS, AUTH
      // and the transaction together (the claim on the recipients is sized to it). The socket
      // in use is closed when it passes.
      const deadline = totalSignal(config.timeout_ms, ctx.signal);
      const lease = ctx.sessions ? await ctx.sessions.lease(JSON.stringify([owner, config, heloName, creds.password ?? null]), config.max_connections) : null;
      if (deadline.aborted) {
        // The slot came too late: this call is over (its caller has moved on); nothing is sent.
        await lease?.done(lease.reused, lease.reused !== undefined);
        return transient(`SMTP ${where}: no session free within the call's deadline of ${config.timeout_ms} ms`);
      }
      let session: PooledSession | undefined = lease?.reused;
      let keep = false;
      let release = () => {};
      const guard = (s: PooledSession) => {
        release();
        release = s.client.guard(deadline);
      };
      try {
        if (session) {
          guard(session);
          try {
            const { result, reusable } = await transact(session.client, message, encoded.payload);
            keep = reusable;
            if (result.status === "sent") session.sent++;
            return result;
          } catch (e) {
            await session.client.abort();
            // The server closed an idle session (a dropped connection, or 421 "closing"), seen at
            // MAIL, before anything was handed over: the message goes on a new session.
            const stale = (e instanceof SmtpConnectionError || (e instanceof SmtpReplyError && e.reply.code === 421)) && e.stage === "MAIL";
            if (!stale) return classifyFailure(e, where);
            session = undefined;
          }
        }
        session = { client: await open(heloName, deadline), sent: 0 };
        guard(session);
        try {
          const { result, reusable } = await transact(session.client, message, encoded.payload);
          keep = reusable && lease !== null;
          if (result.status === "sent") session.sent++;
          if (reusable && lease === null) await session.client.quit();
          return result;
        } catch (e) {
          await session.client.abort();
          return classifyFailure(e, where);
        }
      } catch (e) {
        // Opening the session failed (connect, TLS, EHLO, AUTH); it is already closed.
        session = undefined;
        return classifyFailure(e, where);
      } finally {
        release();
        await lease?.done(keep ? session : undefined, keep);
      }
    },
    /** Connect, EHLO, STARTTLS and AUTH as configured, then QUIT: everything a send needs but MAIL. */
    async probe(ctx: ProbeContext): Promise<ProbeResult> {
      const started = ctx.now();
      let client: SmtpClient | undefined;
      try {
        client = await SmtpClient.open({
          host: config.host,
          port: config.port,
          security: config.security,
          heloName: config.helo_name ?? "localhost",
          timeoutMs: probeTimeout(ctx, config.timeout_ms),
        });
        if (config.username) await client.authenticate(config.username, creds.password ?? "");
        await client.quit();
        return healthy(ctx.now() - started);
      } catch (e) {
        await client?.abort();
        return fromOutcome(classifyFailure(e, where), ctx.now() - started);
      }
    },
  };
}

/** Most relays name their queue id in the 250 after DATA ("250 2.0.0 Ok: queued as 4Bx1"). */
function queueIdFrom(reply: SmtpReply): string | undefined {
  const text = reply.lines.join(" ");
  const m = /queued as\s+([^\s;]+)/i.exec(text) ?? /\bid[=:]\s*([^\s;]+)/i.exec(text);
  return m?.[1]?.replace(/[<>]/g, "");
}
