// email(): Email Routing's entry point. Three kinds of mail arrive here:
// - bounces and complaints at the bounce domain (VERP `bounces+<id>@…`, or forwarded reports),
// - submissions at a submission address from an authenticated sender of a workspace,
// - anything else, which is refused with a reason (never dropped silently).
// Refusals are RelayErrors, mapped by the table the SMTP bridge uses too (core/smtp-replies.ts):
// a permanent one is given to setReject (`550 5.7.1 <reason>`); a temporary one (a rate limit,
// our own 5xx) and any unexpected failure (database unavailable) are thrown, so the message is
// not accepted and the sender retries.
import { RelayError } from "../../core/errors";
import { readConfig } from "../../core/config";
import { safeErrorMessage } from "../../db/errors";
import { openRelayStore } from "../store";
import { log, pii } from "../log";
import { processBounce } from "./bounces";
import { submissionTarget } from "./config";
import { inboundRefusal } from "./refusal";
import { processSubmission } from "./submission";
import { decodeVerp } from "../../core/verp";

export async function handleEmail(message: ForwardableEmailMessage, env: Env, _ctx?: ExecutionContext): Promise<void> {
  try {
    await route(message, env);
  } catch (e) {
    if (e instanceof RelayError) {
      const refusal = inboundRefusal(e);
      const fields = { to: pii(message.to), code: e.code, reply: `${refusal.code} ${refusal.enhanced}` };
      if (!refusal.temporary) {
        log.info("inbound_rejected", fields);
        message.setReject(refusal.text);
        return;
      }
      // A refusal for now (over a limit): thrown like a failure, so the sender retries.
      if (e.status < 500) {
        log.info("inbound_deferred", fields);
        throw e;
      }
    }
    log.error("inbound_failed", { to: pii(message.to), error: safeErrorMessage(e) });
    throw e;
  }
}

async function route(message: ForwardableEmailMessage, env: Env): Promise<void> {
  const cfg = readConfig(env).inbound;
  const max = readConfig(env).maxMessageBytes;
  if (message.rawSize > max) throw new RelayError("message_too_large", `message is ${message.rawSize} bytes; the limit is ${max}`);
  const raw = await readLimited(message.raw, max);
  // Not lowercased: VERP ids are case-sensitive (decodeVerp folds the domain itself).
  const to = message.to.trim();

  const verp = cfg.bounceDomain ? decodeVerp(to, cfg.bounceDomain) : null;
  if (verp) {
    await bounce(env, raw, verp.kind === "plain" ? null : verp);
    return;
  }
  const target = submissionTarget(cfg, to);
  if (target !== null) {
    // Reports sent to a submission address (a null sender cannot submit mail) are read as bounces.
    if (message.from === "" || message.from === "<>") {
      await bounce(env, raw, null);
      return;
    }
    await processSubmission(env, message, raw, target);
    return;
  }
  throw new RelayError("not_found", "no such mailbox at this relay");
}

/** A report, through a store of its own (an email event is no request), closed when it is recorded. */
async function bounce(env: Env, raw: Uint8Array, verp: Parameters<typeof processBounce>[3]): Promise<void> {
  const store = openRelayStore(env);
  try {
    await processBounce(env, store, raw, verp);
  } finally {
    await store.close();
  }
}

async function readLimited(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new RelayError("message_too_large", `message exceeds the limit of ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
