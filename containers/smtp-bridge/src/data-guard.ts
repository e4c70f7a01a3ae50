// Checks every byte of DATA before it is passed on, so a message that breaks a rule never
// reaches the relay in full. Synchronous on purpose: the caller scans a chunk and only then
// writes it to the upload, so what was checked is exactly what was sent, with no buffering lag.
// - Every CR must be followed by LF and every LF preceded by CR. smtp-server only ends DATA at
//   CRLF.CRLF and passes `\n.\r\n`, `\r.\r` or `\r\n.\n` through as content; a laxer later hop
//   would see a second message there (SMTP smuggling, CVE-2023-51764), so such a message is
//   refused, as Postfix's smtpd_forbid_bare_newline does.
// - No NUL anywhere: RFC 5322 does not allow it, and a hop that strips NULs reads
//   `CRLF NUL . CRLF` as end-of-data (smuggling again).
// - No control characters between a line start and a dot (`CRLF \x01 . CRLF`): the same trick
//   against a hop that drops other controls. Controls elsewhere (a form feed starting a page of a
//   printed report) are legal body text and pass.
// - Lines are at most `maxLineLength` octets (RFC 5322: 998), the header section at most
//   `maxHeaderBytes`, the message at most `maxBytes` octets as the client sent them (after
//   dot-unstuffing). The bridge adds nothing, so SIZE means what the client sends.
import type { LocalRejection } from "./replies.ts";

const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;
const DOT = 0x2e;
const NUL = 0x00;
const DEL = 0x7f;

export class DataRejected extends Error {
  readonly reason: LocalRejection;
  constructor(reason: LocalRejection) {
    super(`message rejected: ${reason}`);
    this.name = "DataRejected";
    this.reason = reason;
  }
}

/** Rejections that mean the client's line structure (and so maybe its end of DATA) is broken. */
export const MALFORMED_LINES: ReadonlySet<LocalRejection> = new Set(["bare_lf", "bare_cr", "nul", "control_dot"]);

export interface DataGuardOptions {
  maxBytes: number;
  maxLineLength: number;
  maxHeaderBytes: number;
}

interface ScanState {
  pendingCR: boolean;
  lineLength: number;
  /** only control characters seen since the line started */
  controlRun: boolean;
  inHeader: boolean;
}

const isControl = (byte: number) => (byte < 0x20 && byte !== TAB) || byte === DEL;

export class DataGuard {
  /** octets received from the client so far */
  bytes = 0;
  readonly #options: DataGuardOptions;
  #state: ScanState = { pendingCR: false, lineLength: 0, controlRun: true, inHeader: true };

  constructor(options: DataGuardOptions) {
    this.#options = options;
  }

  /** Checks the next chunk of DATA; a rejection is final (the message is refused). */
  scan(chunk: Buffer): LocalRejection | null {
    this.bytes += chunk.length;
    if (this.bytes > this.#options.maxBytes) return "too_large";
    const problem = this.#walk(this.#state, chunk, true);
    if (problem) return problem;
    if (this.#state.inHeader && this.bytes > this.#options.maxHeaderBytes) return "header_too_large";
    return null;
  }

  /** DATA has ended: a CR as the very last octet had no LF. */
  end(): LocalRejection | null {
    return this.#state.pendingCR ? "bare_cr" : null;
  }

  /**
   * What `bytes`, if they came next, would show about the line structure, without consuming
   * them. For the octets smtp-server still holds back from a client that went quiet.
   */
  peek(bytes: Buffer): LocalRejection | null {
    return this.#walk({ ...this.#state }, bytes, false);
  }

  #walk(state: ScanState, chunk: Buffer, limits: boolean): LocalRejection | null {
    const maxLine = this.#options.maxLineLength;
    let { pendingCR, lineLength, controlRun, inHeader } = state;
    let problem: LocalRejection | null = null;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (pendingCR) {
        if (byte !== LF) {
          problem = "bare_cr";
          break;
        }
        pendingCR = false;
        // an empty line ends the header section
        if (lineLength === 0) inHeader = false;
        lineLength = 0;
        controlRun = true;
      } else if (byte === CR) {
        pendingCR = true;
      } else if (byte === LF) {
        problem = "bare_lf";
        break;
      } else if (byte === NUL) {
        problem = "nul";
        break;
      } else {
        if (controlRun) {
          if (byte === DOT && lineLength > 0) {
            problem = "control_dot";
            break;
          }
          controlRun = isControl(byte);
        }
        if (++lineLength > maxLine && limits) {
          problem = "line_too_long";
          break;
        }
      }
    }
    Object.assign(state, { pendingCR, lineLength, controlRun, inHeader });
    return problem;
  }
}
