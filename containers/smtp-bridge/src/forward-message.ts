// One message from the DATA stream to the relay. Each chunk is checked by the DataGuard and only
// then written to the upload; the outcome is known once both the client has finished DATA and the
// relay has answered (or the upload was abandoned). smtp-server replies only after DATA ended,
// so the stream is always read to its end, even when nothing more is forwarded.
import { PassThrough } from "node:stream";
import type { Credential } from "./auth.ts";
import { DataGuard, DataRejected, MALFORMED_LINES } from "./data-guard.ts";
import type { Envelope, RelayClient, SubmitResult } from "./relay-client.ts";
import { localRejectionReply, REPLIES, replyForSubmit, type LocalRejection, type Reply } from "./replies.ts";
import type { SMTPServerDataStream } from "smtp-server";

export interface ForwardLimits {
  maxBytes: number;
  maxLineLength: number;
  maxHeaderBytes: number;
  dataTimeoutMs: number;
  /** after a malformed line ending, how long the client may stay quiet before it is disconnected */
  bareNewlineGraceMs: number;
}

/** How DATA ended: with its terminator, or with the connection. */
export type DataEnd = "complete" | "client_disconnected" | "data_timeout" | "malformed_lines";

export interface ForwardOutcome {
  reply: Reply;
  relay: SubmitResult;
  localRejection: LocalRejection | null;
  end: DataEnd;
  bytes: number;
}

export interface ForwardHooks {
  /** The client is too slow or will never end DATA: answer with `reply` and drop the connection. */
  disconnect(reply: Reply, why: "data_timeout" | "malformed_lines"): void;
  /** DATA octets smtp-server received but still holds back (they could start the terminator). */
  heldBack(): Buffer | null;
}

// A client that stopped right after a malformed terminator (`\n.\n`, `CRLF NUL . CRLF`) gets its
// answer after this short pause rather than the full grace: it is not going to send more.
const TAIL_GRACE_MS = 250;

export function forwardMessage(
  stream: SMTPServerDataStream,
  credential: Credential,
  envelope: Envelope,
  relay: Pick<RelayClient, "submit">,
  limits: ForwardLimits,
  hooks: ForwardHooks,
): Promise<ForwardOutcome> {
  const guard = new DataGuard(limits);
  const body = new PassThrough();
  let feeding = true;
  let localRejection: LocalRejection | null = null;
  let end: DataEnd | null = null;
  let relayResult: SubmitResult | null = null;
  let quietTimer: NodeJS.Timeout | undefined;

  return new Promise((resolve) => {
    const finish = () => {
      if (end === null || relayResult === null) return;
      clearTimeout(dataTimer);
      clearTimeout(quietTimer);
      const reply = localRejection
        ? localRejectionReply(localRejection, limits)
        : end !== "complete"
          ? REPLIES.relayUnavailable
          : replyForSubmit(relayResult);
      resolve({ reply, relay: relayResult, localRejection, end, bytes: guard.bytes });
    };

    // Stop passing bytes on (the upload is aborted, so the relay never has a complete request)
    // but keep reading to the end of DATA.
    const refuse = (reason: LocalRejection) => {
      localRejection ??= reason;
      if (!feeding) return;
      feeding = false;
      body.destroy(new DataRejected(reason));
      stream.resume();
    };

    const dataTimer = setTimeout(() => {
      hooks.disconnect(REPLIES.dataTooSlow, "data_timeout");
      close("data_timeout");
    }, limits.dataTimeoutMs);
    dataTimer.unref();

    // The held-back octets can only be judged once everything before them was scanned (not while
    // chunks wait in the stream, nor once scanning stopped).
    const tailProblem = (): LocalRejection | null => {
      if (!feeding || stream.readableLength > 0 || stream.isPaused()) return null;
      const tail = hooks.heldBack();
      const problem = tail && tail.length > 0 ? guard.peek(tail) : null;
      return problem && MALFORMED_LINES.has(problem) ? problem : null;
    };

    // A client whose line structure is broken may also have "ended" DATA with something that is
    // no end at all (`\n.\n`): it would wait for our reply until the idle timeout and then retry
    // for days. Once it goes quiet, it gets its permanent error and the connection is closed.
    const armQuietTimer = () => {
      clearTimeout(quietTimer);
      const early = tailProblem() !== null;
      quietTimer = setTimeout(() => {
        if (end !== null) return;
        const reason = localRejection !== null && MALFORMED_LINES.has(localRejection) ? localRejection : tailProblem();
        if (reason === null) return;
        refuse(reason);
        hooks.disconnect(localRejectionReply(reason, limits), "malformed_lines");
        close("malformed_lines");
      }, early ? TAIL_GRACE_MS : limits.bareNewlineGraceMs);
      quietTimer.unref();
    };

    // The connection went away (or we closed it) before the terminator.
    const close = (why: Exclude<DataEnd, "complete">) => {
      if (end !== null) return;
      end = why;
      body.destroy(new Error(`DATA ended without its terminator: ${why}`));
      finish();
    };

    relay
      .submit(credential.bearer(), envelope, body)
      .catch((err: unknown): SubmitResult => ({ kind: "unavailable", reason: `internal: ${String(err)}`, status: null }))
      .then((result) => {
        relayResult = result;
        // an answer before DATA ended (refused, unreachable) ends the upload
        if (end === null && feeding) {
          feeding = false;
          stream.resume();
        }
        finish();
      });

    stream.on("data", (chunk: Buffer) => {
      if (feeding) {
        const problem = guard.scan(chunk);
        if (problem) refuse(problem);
        else if (!body.write(chunk)) {
          stream.pause();
          body.once("drain", () => {
            if (feeding) stream.resume();
          });
        }
      }
      armQuietTimer();
    });
    armQuietTimer();
    stream.on("end", () => {
      if (end !== null) return;
      end = "complete";
      if (feeding) {
        const problem = guard.end();
        if (problem) refuse(problem);
        else body.end();
      }
      finish();
    });
    // smtp-server destroys the stream when the client disconnects in the middle of DATA
    stream.on("error", () => undefined);
    stream.on("close", () => close("client_disconnected"));
  });
}
