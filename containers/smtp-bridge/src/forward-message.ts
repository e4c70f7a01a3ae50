// One message from the DATA stream to the relay. Bytes go through the DataGuard into the
// upload as they arrive; the outcome is known once both the client has finished DATA and the
// relay has answered (or the upload was abandoned). smtp-server replies only after DATA ended,
// so the stream is always read to its end, even when nothing more is forwarded.
import type { Credential } from "./auth.ts";
import { DataGuard, DataRejected } from "./data-guard.ts";
import type { Envelope, RelayClient, SubmitResult } from "./relay-client.ts";
import { localRejectionReply, REPLIES, replyForSubmit, type Reply } from "./replies.ts";
import type { SMTPServerDataStream } from "smtp-server";

export interface ForwardLimits {
  maxBytes: number;
  maxLineLength: number;
  maxHeaderBytes: number;
  messageIdDomain: string;
  dataTimeoutMs: number;
  /** after a bare CR/LF, how long the client may stay quiet before it is disconnected */
  bareNewlineGraceMs: number;
}

export interface ForwardOutcome {
  reply: Reply;
  relay: SubmitResult;
  localRejection: DataRejected["reason"] | null;
  clientGone: boolean;
  bytes: number;
  messageIdAdded: boolean;
}

export interface ForwardHooks {
  /** The client is too slow or will never end DATA: answer with `reply` and drop the connection. */
  disconnect(reply: Reply, why: "data_timeout" | "bare_newline"): void;
}

export function forwardMessage(
  stream: SMTPServerDataStream,
  credential: Credential,
  envelope: Envelope,
  relay: Pick<RelayClient, "submit">,
  limits: ForwardLimits,
  hooks: ForwardHooks,
): Promise<ForwardOutcome> {
  const guard = new DataGuard(limits);
  let feeding = true;
  let localRejection: DataRejected | null = null;
  let clientGone = false;
  let relayResult: SubmitResult | null = null;
  let streamDone = false;
  let quietTimer: NodeJS.Timeout | undefined;

  return new Promise((resolve) => {
    const rejectionReply = (rejection: DataRejected) => localRejectionReply(rejection.reason, limits);

    const dataTimer = setTimeout(() => {
      clientGone = true;
      guard.destroy(new Error("DATA deadline passed"));
      hooks.disconnect(REPLIES.dataTooSlow, "data_timeout");
    }, limits.dataTimeoutMs);
    dataTimer.unref();

    const finish = () => {
      if (!streamDone || relayResult === null) return;
      clearTimeout(dataTimer);
      clearTimeout(quietTimer);
      const reply = localRejection
        ? rejectionReply(localRejection)
        : clientGone
          ? REPLIES.relayUnavailable
          : replyForSubmit(relayResult);
      resolve({
        reply,
        relay: relayResult,
        localRejection: localRejection?.reason ?? null,
        clientGone,
        bytes: guard.bytes,
        messageIdAdded: guard.addedMessageId !== null,
      });
    };

    // Stop passing bytes on but keep reading to the end of DATA.
    const stopFeeding = () => {
      if (!feeding) return;
      feeding = false;
      stream.resume();
    };

    // A client that ends its lines with bare LF also "ends" DATA with \n.\n, which is no end
    // at all: it would wait for our reply until the idle timeout and then retry for days.
    const armQuietTimer = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => {
        if (!streamDone && localRejection) hooks.disconnect(rejectionReply(localRejection), "bare_newline");
      }, limits.bareNewlineGraceMs);
      quietTimer.unref();
    };

    guard.on("error", (err) => {
      if (err instanceof DataRejected) {
        localRejection ??= err;
        if (err.reason === "bare_lf" || err.reason === "bare_cr") armQuietTimer();
      }
      stopFeeding();
    });

    relay
      .submit(credential.bearer(), envelope, guard)
      .catch((err: unknown): SubmitResult => ({ kind: "unavailable", reason: `internal: ${String(err)}`, status: null }))
      .then((result) => {
        relayResult = result;
        // an answer before DATA ended (refused, unreachable) ends the upload
        if (!streamDone) stopFeeding();
        finish();
      });

    stream.on("data", (chunk: Buffer) => {
      if (quietTimer) armQuietTimer();
      if (!feeding) return;
      if (!guard.write(chunk)) {
        stream.pause();
        guard.once("drain", () => {
          if (feeding) stream.resume();
        });
      }
    });
    stream.on("end", () => {
      streamDone = true;
      if (feeding) guard.end();
      finish();
    });
    // smtp-server destroys the stream when the client disconnects in the middle of DATA
    stream.on("error", () => undefined);
    stream.on("close", () => {
      if (streamDone) return;
      streamDone = true;
      clientGone = true;
      guard.destroy(new Error("client disconnected during DATA"));
      finish();
    });
  });
}
