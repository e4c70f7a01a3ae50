// A raw SMTP client for tests that need byte-level control (smuggling payloads, pipelining
// across STARTTLS): writes exactly what it is given and parses replies.
import net from "node:net";
import tls from "node:tls";

export interface SmtpReply {
  code: number;
  lines: string[];
  /** all lines joined with "\n", without the codes */
  text: string;
}

export class RawSmtp {
  #socket: net.Socket | tls.TLSSocket;
  #buffer = "";
  #lines: string[] = [];
  #replies: SmtpReply[] = [];
  #waiters: Array<(reply: SmtpReply) => void> = [];
  #closed = false;
  #closeWaiters: Array<() => void> = [];
  readonly #onData = (chunk: Buffer) => this.#feed(chunk.toString("latin1"));

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.#socket = socket;
    this.#attach();
  }

  /** `localAddress`: another loopback address (127.0.0.2, …) to connect from, as another client host. */
  static async connect(port: number, options: { implicitTls?: boolean; localAddress?: string } = {}): Promise<RawSmtp> {
    const from = options.localAddress ? { localAddress: options.localAddress } : {};
    const socket = options.implicitTls
      ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false, ...from })
      : net.connect({ port, host: "127.0.0.1", ...from });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.implicitTls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    return new RawSmtp(socket);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #attach(): void {
    this.#socket.on("data", this.#onData);
    this.#socket.on("error", () => undefined);
    this.#socket.on("close", () => {
      this.#closed = true;
      for (const waiter of this.#closeWaiters.splice(0)) waiter();
    });
  }

  #feed(text: string): void {
    this.#buffer += text;
    let at: number;
    while ((at = this.#buffer.indexOf("\r\n")) >= 0) {
      const line = this.#buffer.slice(0, at);
      this.#buffer = this.#buffer.slice(at + 2);
      this.#lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const lines = this.#lines.splice(0);
        const reply = { code: Number(line.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join("\n") };
        const waiter = this.#waiters.shift();
        if (waiter) waiter(reply);
        else this.#replies.push(reply);
      }
    }
  }

  /** The next reply; rejects after `timeoutMs` or when the connection closes without one. */
  read(timeoutMs = 10_000): Promise<SmtpReply> {
    const queued = this.#replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no SMTP reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (reply: SmtpReply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Replies that arrived and were not read yet. */
  pending(): SmtpReply[] {
    return this.#replies.splice(0);
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  async cmd(line: string): Promise<SmtpReply> {
    this.write(line + "\r\n");
    return this.read();
  }

  async greeting(): Promise<SmtpReply> {
    return this.read();
  }

  /** Upgrades the connection after a 220 to STARTTLS; whatever plaintext was queued is dropped. */
  async upgrade(): Promise<void> {
    const plain = this.#socket;
    plain.off("data", this.#onData);
    this.#buffer = "";
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.#socket = secure;
    this.#attach();
  }

  async starttls(): Promise<void> {
    const reply = await this.cmd("STARTTLS");
    if (reply.code !== 220) throw new Error(`STARTTLS refused: ${reply.code} ${reply.text}`);
    await this.upgrade();
  }

  async authPlain(username: string, password: string): Promise<SmtpReply> {
    return this.cmd("AUTH PLAIN " + Buffer.from(`\0${username}\0${password}`).toString("base64"));
  }

  /** EHLO, STARTTLS, EHLO, AUTH PLAIN; throws unless every step succeeds. */
  static async session(port: number, apiKey: string, username = "apikey"): Promise<RawSmtp> {
    const client = await RawSmtp.tlsSession(port);
    expectCode(await client.authPlain(username, apiKey), 235);
    return client;
  }

  /** EHLO, STARTTLS, EHLO: ready for AUTH. */
  static async tlsSession(port: number, localAddress?: string): Promise<RawSmtp> {
    const client = await RawSmtp.connect(port, localAddress ? { localAddress } : {});
    expectCode(await client.greeting(), 220);
    expectCode(await client.cmd("EHLO client.test"), 250);
    await client.starttls();
    expectCode(await client.cmd("EHLO client.test"), 250);
    return client;
  }

  /** MAIL, RCPT..., DATA, the message (dot-stuffed here), the final dot; returns the DATA reply. */
  async send(from: string, to: string[], message: string | Buffer): Promise<SmtpReply> {
    expectCode(await this.cmd(`MAIL FROM:<${from}>`), 250);
    for (const rcpt of to) expectCode(await this.cmd(`RCPT TO:<${rcpt}>`), 250);
    expectCode(await this.cmd("DATA"), 354);
    this.write(dotStuff(Buffer.isBuffer(message) ? message : Buffer.from(message, "latin1")));
    this.write(".\r\n");
    return this.read();
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connection did not close")), timeoutMs);
      this.#closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

export function expectCode(reply: SmtpReply, code: number): SmtpReply {
  if (reply.code !== code) throw new Error(`expected ${code}, got ${reply.code} ${reply.text}`);
  return reply;
}

/** Escapes lines that start with "." (RFC 5321 4.5.2); the message must end with CRLF. */
export function dotStuff(message: Buffer): Buffer {
  const text = message.toString("latin1");
  return Buffer.from((text.startsWith(".") ? "." : "") + text.replace(/\r\n\./g, "\r\n.."), "latin1");
}
