// A small SMTP submission client over `cloudflare:sockets`.
//
// Why not a library: nodemailer needs node:net/tls, which Workers lack; the one Workers-native
// client on npm (worker-mailer) builds its own MIME from subject/text/html fields, while the
// relay must send the already-rendered message byte for byte to an explicit envelope and needs
// each RCPT TO answer separately. What is needed is small: EHLO, STARTTLS, AUTH PLAIN/LOGIN,
// MAIL/RCPT/DATA (pipelined where offered), QUIT, strict CRLF and dot-stuffing.
import { connect } from "cloudflare:sockets";

export type SmtpSecurity = "tls" | "starttls" | "none";

export interface SmtpReply {
  code: number;
  /** Text of every line without the code and separator. */
  lines: string[];
}

export class SmtpReplyError extends Error {
  constructor(
    readonly stage: string,
    readonly reply: SmtpReply,
  ) {
    super(`${stage}: ${reply.code} ${reply.lines.join(" ")}`.slice(0, 500));
    this.name = "SmtpReplyError";
  }
}

/** Network-level failure: connect, TLS, timeout, dropped connection. Always worth a retry. */
export class SmtpConnectionError extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(`${stage}: ${message}`);
    this.name = "SmtpConnectionError";
  }
}

/** The server lacks something the configuration requires (STARTTLS, an AUTH mechanism). */
export class SmtpCapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SmtpCapabilityError";
  }
}

export interface SmtpConnectOptions {
  host: string;
  port: number;
  security: SmtpSecurity;
  heloName: string;
  /** Bounds each step (connect, every read and write). */
  timeoutMs: number;
  /** The call's whole deadline: when it aborts, opening stops and the socket is closed. */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();
const CR = 13;
const LF = 10;
const DOT = 46;
const NUL = 0;

/** Why a message cannot go onto the DATA wire as it is. */
export type UnsafeData = { problem: "nul" | "bare_cr" | "bare_lf"; offset: number };

const UNSAFE_TEXT: Record<UnsafeData["problem"], string> = {
  nul: "a NUL octet",
  bare_cr: "a CR not followed by LF",
  bare_lf: "an LF not preceded by CR",
};

export function describeUnsafeData(u: UnsafeData): string {
  return `the message contains ${UNSAFE_TEXT[u.problem]} at octet ${u.offset}; it is refused rather than written to the SMTP wire`;
}

/**
 * Dot-stuffs a message for DATA (RFC 5321 §4.5.2) and appends the terminating <CRLF>.<CRLF>.
 * A NUL, bare CR or bare LF is refused, not repaired: a server that strips NULs or accepts bare
 * line ends would read `CRLF NUL . CRLF` or `LF . LF` as end-of-data and the rest as a second
 * message (SMTP smuggling), and rewriting the bytes here would deliver something other than what
 * the relay checked at accept time.
 */
export function encodeDataPayload(raw: Uint8Array): { payload: Uint8Array } | { unsafe: UnsafeData } {
  // Worst case a stuffed dot per line: every line is a lone dot (3 octets become 4).
  const out = new Uint8Array(raw.length + Math.ceil(raw.length / 3) + 5);
  let o = 0;
  let atLineStart = true;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === NUL) return { unsafe: { problem: "nul", offset: i } };
    if (b === CR) {
      if (raw[i + 1] !== LF) return { unsafe: { problem: "bare_cr", offset: i } };
      out[o++] = CR;
      out[o++] = LF;
      i++;
      atLineStart = true;
      continue;
    }
    if (b === LF) return { unsafe: { problem: "bare_lf", offset: i } };
    if (atLineStart && b === DOT) out[o++] = DOT;
    out[o++] = b;
    atLineStart = false;
  }
  if (!atLineStart) {
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = DOT;
  out[o++] = CR;
  out[o++] = LF;
  return { payload: out.subarray(0, o) };
}

/** A step bounded by its own timeout and by the call's deadline (the signal), whichever ends first. */
function withTimeout<T>(p: Promise<T>, ms: number, stage: string, deadline?: AbortSignal): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SmtpConnectionError(stage, `timed out after ${ms} ms`)), ms);
    if (deadline) {
      onAbort = () => reject(new SmtpConnectionError(stage, "timed out: the call's deadline passed"));
      if (deadline.aborted) onAbort();
      else deadline.addEventListener("abort", onAbort, { once: true });
    }
  });
  return Promise.race([p, t]).finally(() => {
    clearTimeout(timer);
    if (onAbort) deadline!.removeEventListener("abort", onAbort);
  });
}

export class SmtpClient {
  private socket: Socket;
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private buf = new Uint8Array(0);
  private closed = false;
  /** The deadline of the call using the session now (guard). */
  private deadline: AbortSignal | undefined;
  /** EHLO keywords (upper-case) → parameters. */
  capabilities = new Map<string, string>();

  private constructor(
    private readonly opts: SmtpConnectOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    this.reader = socket.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.writer = socket.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
  }

  /**
   * Ties the session to one call's deadline: when the signal aborts, the socket is closed and
   * the pending read or write fails at once, so no byte of this call goes out after its
   * deadline. Returns the release (a pooled session outlives the call that opened it).
   */
  guard(signal: AbortSignal | undefined): () => void {
    if (!signal) return () => {};
    this.deadline = signal;
    const onAbort = () => void this.abort();
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => {
      signal.removeEventListener("abort", onAbort);
      if (this.deadline === signal) this.deadline = undefined;
    };
  }

  /** Connects, reads the greeting, says EHLO and (for `starttls`) upgrades and says EHLO again. */
  static async open(opts: SmtpConnectOptions): Promise<SmtpClient> {
    if (opts.signal?.aborted) throw new SmtpConnectionError("connect", "timed out: the call's deadline passed");
    let socket: Socket;
    try {
      socket = connect(
        { hostname: opts.host, port: opts.port },
        { secureTransport: opts.security === "tls" ? "on" : opts.security === "starttls" ? "starttls" : "off", allowHalfOpen: false },
      );
    } catch (e) {
      throw new SmtpConnectionError("connect", e instanceof Error ? e.message : String(e));
    }
    const client = new SmtpClient(opts, socket);
    const release = client.guard(opts.signal);
    try {
      await withTimeout(socket.opened, opts.timeoutMs, "connect", opts.signal);
      const greeting = await client.read("greeting");
      if (greeting.code !== 220) throw new SmtpReplyError("greeting", greeting);
      await client.ehlo();
      if (opts.security === "starttls") {
        if (!client.capabilities.has("STARTTLS")) throw new SmtpCapabilityError("the server does not offer STARTTLS");
        await client.expect("STARTTLS", "STARTTLS", [220]);
        await client.upgrade();
        await client.ehlo();
      }
      return client;
    } catch (e) {
      await client.abort();
      throw client.wrapIoError(e, "connect");
    } finally {
      release();
    }
  }

  private async upgrade(): Promise<void> {
    // Bytes that arrived before the TLS handshake must not be trusted afterwards (RFC 3207 §4.2).
    if (this.buf.length > 0) throw new SmtpConnectionError("starttls", "server sent data after its STARTTLS reply");
    this.reader.releaseLock();
    this.writer.releaseLock();
    const secure = this.socket.startTls();
    this.socket = secure;
    this.reader = secure.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.writer = secure.writable.getWriter() as WritableStreamDefaultWriter<Uint8Array>;
    this.capabilities.clear();
  }

  private async ehlo(): Promise<void> {
    const reply = await this.command(`EHLO ${this.opts.heloName}`, "EHLO");
    if (reply.code !== 250) {
      // RFC 5321 §3.2: an old server answers EHLO with 5xx; HELO still works there.
      if (reply.code >= 500 && this.opts.security !== "starttls") {
        await this.expect(`HELO ${this.opts.heloName}`, "HELO", [250]);
        return;
      }
      throw new SmtpReplyError("EHLO", reply);
    }
    this.capabilities.clear();
    for (const line of reply.lines.slice(1)) {
      const [kw, ...rest] = line.trim().split(/\s+/);
      if (kw) this.capabilities.set(kw.toUpperCase(), rest.join(" "));
    }
  }

  /** AUTH PLAIN when offered, else AUTH LOGIN. Throws SmtpReplyError on rejection. */
  async authenticate(username: string, password: string): Promise<void> {
    const mechanisms = (this.capabilities.get("AUTH") ?? "").toUpperCase().split(/\s+/);
    if (mechanisms.includes("PLAIN")) {
      const token = b64(`\u0000${username}\u0000${password}`);
      await this.expect(`AUTH PLAIN ${token}`, "AUTH", [235], true);
      return;
    }
    if (mechanisms.includes("LOGIN")) {
      await this.expect("AUTH LOGIN", "AUTH", [334]);
      await this.expect(b64(username), "AUTH", [334], true);
      await this.expect(b64(password), "AUTH", [235], true);
      return;
    }
    throw new SmtpCapabilityError(`the server offers no supported AUTH mechanism (offered: ${mechanisms.join(" ") || "none"})`);
  }

  async command(line: string, stage: string): Promise<SmtpReply> {
    await this.send([line], stage);
    return this.read(stage);
  }

  /**
   * Writes commands without waiting for their replies (one write): with PIPELINING (RFC 2920)
   * the caller then reads one reply per command, in order.
   */
  async send(lines: string[], stage: string): Promise<void> {
    for (const line of lines) if (/[\r\n]/.test(line)) throw new Error(`${stage}: CR/LF in an SMTP command`);
    await this.write(encoder.encode(lines.map((l) => l + "\r\n").join("")), stage);
  }

  async expect(line: string, stage: string, codes: number[], secret = false): Promise<SmtpReply> {
    const reply = await this.command(line, stage);
    if (!codes.includes(reply.code)) {
      throw new SmtpReplyError(stage, secret ? { code: reply.code, lines: reply.lines } : reply);
    }
    return reply;
  }

  /** Sends the DATA payload (already encoded) and returns the final reply. */
  async sendData(payload: Uint8Array): Promise<SmtpReply> {
    const CHUNK = 64 * 1024;
    for (let i = 0; i < payload.length; i += CHUNK) await this.write(payload.subarray(i, i + CHUNK), "DATA");
    return this.read("DATA");
  }

  async write(bytes: Uint8Array, stage: string): Promise<void> {
    try {
      await withTimeout(this.writer.write(bytes), this.opts.timeoutMs, stage, this.deadline);
    } catch (e) {
      throw this.wrapIoError(e, stage);
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async read(stage: string): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine(stage);
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line);
      if (!m) throw new SmtpConnectionError(stage, `malformed reply line ${JSON.stringify(line.slice(0, 80))}`);
      lines.push(m[3] ?? "");
      if (m[2] !== "-") return { code: Number(m[1]), lines };
    }
  }

  private async readLine(stage: string): Promise<string> {
    for (;;) {
      const idx = this.buf.indexOf(LF);
      if (idx >= 0) {
        const end = idx > 0 && this.buf[idx - 1] === CR ? idx - 1 : idx;
        const line = new TextDecoder().decode(this.buf.subarray(0, end));
        this.buf = this.buf.slice(idx + 1);
        return line;
      }
      if (this.buf.length > 64 * 1024) throw new SmtpConnectionError(stage, "reply line too long");
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await withTimeout(this.reader.read(), this.opts.timeoutMs, stage, this.deadline);
      } catch (e) {
        throw this.wrapIoError(e, stage);
      }
      if (chunk.done) throw new SmtpConnectionError(stage, "connection closed by the server");
      const next = new Uint8Array(this.buf.length + chunk.value.length);
      next.set(this.buf, 0);
      next.set(chunk.value, this.buf.length);
      this.buf = next;
    }
  }

  /** Polite close: QUIT, then close the socket; errors are irrelevant once the mail is handed over. */
  async quit(): Promise<void> {
    if (this.closed) return;
    try {
      await withTimeout(this.command("QUIT", "QUIT"), Math.min(this.opts.timeoutMs, 5000), "QUIT");
    } catch {
      // ignore
    }
    await this.abort();
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await withTimeout(this.socket.close(), 2000, "close");
    } catch {
      // ignore
    }
  }

  private wrapIoError(e: unknown, stage: string): Error {
    if (e instanceof SmtpReplyError || e instanceof SmtpConnectionError || e instanceof SmtpCapabilityError) return e;
    return new SmtpConnectionError(stage, e instanceof Error ? e.message : String(e));
  }
}

function b64(s: string): string {
  const bytes = encoder.encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
