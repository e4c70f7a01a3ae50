// SMTP sink on smtp-server: one port with STARTTLS (and plain), one more that does not offer
// PIPELINING (an older server), and, when a certificate is available, one implicit-TLS port. AUTH PLAIN/LOGIN with one configured user (optional
// unless required), every accepted message recorded, faults injectable per stage.
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import crypto from "node:crypto";
import type { FaultRule, FaultTarget } from "./faults";
import { sleep } from "./faults";
import { summarize, type SimulatorState } from "./state";
import type { TlsFixture } from "./tls-fixture";

export interface SmtpSinkOptions {
  host: string;
  port: number;
  /** Implicit TLS port; needs `tls`. */
  tlsPort: number;
  tls?: TlsFixture;
  username: string;
  password: string;
  requireAuth: boolean;
  /** Advertised SIZE limit in bytes. */
  maxSize: number;
}

export interface SmtpSink {
  port: number;
  /** The same sink without PIPELINING in its EHLO answer: clients send one command at a time. */
  noPipeliningPort: number;
  tlsPort?: number;
  close(): Promise<void>;
}

type Callback = (err?: Error | null) => void;

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpSink(state: SimulatorState, opts: SmtpSinkOptions): Promise<SmtpSink> {
  const servers: SMTPServer[] = [];

  /** Resolves once the fault is applied: true when the caller must not continue. */
  async function fault(server: SMTPServer, target: FaultTarget, session: SMTPServerSession, scope: string | undefined, cb: Callback, match?: string): Promise<boolean> {
    const rule: FaultRule | undefined = state.faults.pick(target, scope, match);
    if (!rule) return false;
    if (rule.latencyMs) await sleep(rule.latencyMs);
    if (rule.action === "timeout") return true; // never answer
    if (rule.action === "drop") {
      for (const conn of (server as unknown as { connections: Set<{ id: string; _socket?: { destroy(): void } }> }).connections) {
        if (conn.id === session.id) conn._socket?.destroy();
      }
      return true;
    }
    if (rule.status === undefined) return false;
    cb(smtpError(rule.status, typeof rule.body === "string" ? rule.body : `simulated ${rule.status}`));
    return true;
  }

  function make(secure: boolean, hidePIPELINING = false): SMTPServer {
    const server: SMTPServer = new SMTPServer({
      secure,
      hidePIPELINING,
      ...(opts.tls ? { key: opts.tls.keyPem, cert: opts.tls.certPem } : {}),
      disableReverseLookup: true,
      authOptional: !opts.requireAuth,
      allowInsecureAuth: true,
      authMethods: ["PLAIN", "LOGIN"],
      size: opts.maxSize,
      logger: false,
      banner: "relay simulator SMTP sink",
      onConnect(session, cb) {
        state.count("smtp-connect", undefined);
        void fault(server, "smtp-connect", session, undefined, cb).then((stop) => stop || cb());
      },
      onAuth(auth, session, cb) {
        state.count("smtp-auth", auth.username);
        void fault(server, "smtp-auth", session, auth.username, cb).then((stop) => {
          if (stop) return;
          if (auth.username === opts.username && auth.password === opts.password) cb(null, { user: auth.username });
          else cb(smtpError(535, "5.7.8 Authentication credentials invalid"));
        });
      },
      onMailFrom(address, session, cb) {
        state.count("smtp-mail", address.address);
        void fault(server, "smtp-mail", session, address.address, cb).then((stop) => stop || cb());
      },
      onRcptTo(address, session, cb) {
        const scope = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
        state.count("smtp-rcpt", scope);
        void fault(server, "smtp-rcpt", session, scope, cb, address.address).then((stop) => stop || cb());
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const scope = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          state.count("smtp-data", scope);
          void fault(server, "smtp-data", session, scope, cb as Callback).then(async (stop) => {
            if (stop) return;
            if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) return cb(smtpError(552, "5.3.4 Message exceeds fixed maximum message size"));
            const data = Buffer.concat(chunks).toString("utf8");
            state.record({
              kind: "smtp",
              at: Date.now(),
              scope,
              mailFrom: scope,
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              ...(session.user ? { user: String(session.user) } : {}),
              secure: session.secure,
              session: session.id,
              data,
              parsed: await summarize(data),
            });
            cb(null, `2.0.0 Ok: queued as ${crypto.randomBytes(5).toString("hex").toUpperCase()}`);
          });
        });
      },
    });
    server.on("error", () => undefined);
    servers.push(server);
    return server;
  }

  const listen = (server: SMTPServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(port, opts.host, () => resolve((server.server.address() as { port: number }).port));
    });

  const port = await listen(make(false), opts.port);
  const noPipeliningPort = await listen(make(false, true), 0);
  const tlsPort = opts.tls ? await listen(make(true), opts.tlsPort) : undefined;
  return {
    port,
    noPipeliningPort,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              for (const c of (s as unknown as { connections: Set<{ _socket?: { destroy(): void } }> }).connections) c._socket?.destroy();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
