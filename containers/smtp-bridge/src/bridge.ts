// The bridge: smtp-server listeners (STARTTLS, optional implicit TLS) whose handlers authenticate
// against the relay and stream each message to it, plus the health endpoint and graceful drain.
import net from "node:net";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { AuthGate, Credential } from "./auth.ts";
import type { BridgeConfig } from "./config.ts";
import { forwardMessage, type ForwardLimits } from "./forward-message.ts";
import { startHealthServer, type HealthServer } from "./health.ts";
import type { Logger } from "./log.ts";
import { RelayClient } from "./relay-client.ts";
import { REPLIES, replyError, type Reply } from "./replies.ts";
import type { TlsMaterial } from "./tls.ts";

type Connection = SMTPServer["connections"] extends Set<infer C> ? C : never;

interface SessionState {
  connection: Connection | undefined;
  startedAt: number;
  authFailures: number;
  authPending: boolean;
  inData: boolean;
  messages: number;
  lifetime: NodeJS.Timeout;
}

export type BridgeStats = {
  sessions: number;
  accepted: number;
  rejected: number;
  deferred: number;
};

export interface Bridge {
  smtpPort: number;
  smtpsPort: number | null;
  healthPort: number | null;
  stats(): BridgeStats;
  /** Stops accepting, lets transactions in flight finish (up to the shutdown timeout), then closes. */
  drain(): Promise<void>;
}

// Commands nobody needs; the sendmail jokes smtp-server answers, and VRFY (address probing).
const BASE_DISABLED = ["WIZ", "SHELL", "KILL", "VRFY"];
const MAX_AUTH_FAILURES_PER_SESSION = 3;
// Once a bare CR/LF (or NUL) was seen and the client has gone quiet this long, it gets its
// permanent error and the connection is closed (Postfix's smtpd_forbid_bare_newline disconnects at once).
const BARE_NEWLINE_GRACE_MS = 2000;

/**
 * The DATA octets smtp-server 3.21.6 still holds back: it keeps the last four until more arrive,
 * since they could begin the terminator. A client that ended with a malformed terminator (`\n.\n`)
 * sends nothing more, so only these show what it did. Private state, so read defensively: if a
 * later smtp-server moves it, this returns null and such a client waits for the idle timeout
 * (test/smuggling.test.ts notices).
 */
function heldBack(connection: Connection | undefined): Buffer | null {
  const parser = (connection as unknown as { _parser?: { _lastBytes?: unknown } } | undefined)?._parser;
  const bytes = parser?._lastBytes;
  return Buffer.isBuffer(bytes) ? bytes : null;
}

export function isLoopback(address: string): boolean {
  const plain = address.replace(/^::ffff:/i, "");
  if (net.isIPv4(plain)) return plain.startsWith("127.");
  return plain === "::1";
}

export async function startBridge(
  config: BridgeConfig,
  deps: { logger: Logger; tls: TlsMaterial; relay?: RelayClient },
): Promise<Bridge> {
  const log = deps.logger;
  const relay =
    deps.relay ??
    new RelayClient({ baseUrl: config.relayUrl, timeoutMs: config.relayTimeoutMs, maxSockets: config.relayMaxSockets });
  const gate = new AuthGate(relay, {
    positiveTtlMs: config.authCacheTtlMs,
    negativeTtlMs: config.authNegativeCacheTtlMs,
    maxFailuresPerIp: config.authMaxFailuresPerIp,
    maxFailuresPerUser: config.authMaxFailuresPerUser,
    failureWindowMs: config.authFailureWindowMs,
  });
  const limits: ForwardLimits = {
    maxBytes: config.maxMessageBytes,
    maxLineLength: config.maxLineLength,
    maxHeaderBytes: config.maxHeaderBytes,
    dataTimeoutMs: config.dataTimeoutMs,
    bareNewlineGraceMs: BARE_NEWLINE_GRACE_MS,
  };
  const sessions = new Map<string, SessionState>();
  const counters = { accepted: 0, rejected: 0, deferred: 0 };
  const servers: SMTPServer[] = [];
  let draining = false;

  const authAllowed = (session: SMTPServerSession) =>
    session.secure || (config.devInsecureAuth && isLoopback(session.remoteAddress));

  const findConnection = (id: string): Connection | undefined => {
    for (const server of servers) {
      for (const connection of server.connections) if (connection.id === id) return connection;
    }
    return undefined;
  };

  const handlers: Pick<
    SMTPServerOptions,
    "onConnect" | "onSecure" | "onAuth" | "onMailFrom" | "onRcptTo" | "onData" | "onClose"
  > = {
    onConnect(session, callback) {
      if (draining) return callback(replyError(REPLIES.shuttingDown.code, REPLIES.shuttingDown.text));
      const connection = findConnection(session.id);
      const lifetime = setTimeout(() => {
        log.info("smtp.session_timeout", { sid: session.id });
        connection?.send(REPLIES.sessionTooLong.code, REPLIES.sessionTooLong.text);
      }, config.sessionTimeoutMs);
      lifetime.unref();
      sessions.set(session.id, {
        connection,
        startedAt: Date.now(),
        authFailures: 0,
        authPending: false,
        inData: false,
        messages: 0,
        lifetime,
      });
      // AUTH is neither offered nor accepted before TLS (RFC 4954 section 4), so credentials are
      // never sent in the clear; the development flag lifts this for loopback clients only.
      session.disabledCommands = authAllowed(session) ? BASE_DISABLED : [...BASE_DISABLED, "AUTH"];
      log.info("smtp.connect", { sid: session.id, ip: session.remoteAddress, port: session.localPort, tls: session.secure });
      callback();
    },

    onSecure(_socket, session, callback) {
      session.disabledCommands = BASE_DISABLED;
      log.debug("smtp.tls", { sid: session.id, cipher: session.tlsOptions ? session.tlsOptions.name : null });
      callback();
    },

    onAuth(auth, session, callback) {
      const state = sessions.get(session.id);
      if (!authAllowed(session)) {
        return callback(replyError(REPLIES.authTlsRequired.code, REPLIES.authTlsRequired.text));
      }
      if (auth.method !== "PLAIN" && auth.method !== "LOGIN") {
        return callback(replyError(504, "5.5.4 Unrecognized authentication type"));
      }
      const username = auth.username ?? "";
      if (state) state.authPending = true;
      gate.authenticate(session.remoteAddress, username, auth.password ?? "").then(
        (decision) => {
          if (state) state.authPending = false;
          const fields = { sid: session.id, ip: session.remoteAddress, user: log.token(username), method: auth.method };
          if (decision.kind === "ok") {
            log.info("smtp.auth", {
              ...fields,
              result: "ok",
              workspace_id: decision.credential.workspaceId,
              key_id: decision.credential.keyId,
            });
            return callback(null, { user: decision.credential });
          }
          if (decision.kind === "unavailable") {
            log.warn("smtp.auth", { ...fields, result: "unavailable", reason: decision.reason });
            return callback(replyError(REPLIES.authUnavailable.code, REPLIES.authUnavailable.text));
          }
          const result = decision.kind === "blocked" ? `blocked_${decision.by}` : decision.kind;
          log.warn("smtp.auth", { ...fields, result });
          if (state && ++state.authFailures >= MAX_AUTH_FAILURES_PER_SESSION) {
            return callback(replyError(REPLIES.authTooManyInSession.code, REPLIES.authTooManyInSession.text));
          }
          const reply =
            decision.kind === "blocked"
              ? REPLIES.authBlocked
              : decision.kind === "no_scope"
                ? REPLIES.authNoScope
                : REPLIES.authInvalid;
          callback(replyError(reply.code, reply.text));
        },
        (err: unknown) => {
          if (state) state.authPending = false;
          log.error("smtp.auth_error", { sid: session.id, error: String(err) });
          callback(replyError(REPLIES.authUnavailable.code, REPLIES.authUnavailable.text));
        },
      );
    },

    // These two answer on a later tick on purpose. smtp-server 3.21.6's SMTPStream.continue()
    // runs the next pipelined commands and only then clears its continuation; if MAIL and RCPT
    // answered synchronously, a third pipelined transaction would reach DATA inside that call,
    // lose its continuation and hang the session.
    onMailFrom(_address, session, callback) {
      setImmediate(() => {
        if (draining) return callback(replyError(REPLIES.shuttingDown.code, REPLIES.shuttingDown.text));
        if (!(session.user instanceof Credential)) {
          const reply = authAllowed(session) ? REPLIES.authRequired : REPLIES.starttlsFirst;
          return callback(replyError(reply.code, reply.text));
        }
        callback();
      });
    },

    onRcptTo(_address, session, callback) {
      setImmediate(() => {
        if (!(session.user instanceof Credential)) {
          return callback(replyError(REPLIES.authRequired.code, REPLIES.authRequired.text));
        }
        callback();
      });
    },

    onData(stream, session, callback) {
      const credential = session.user instanceof Credential ? session.user : null;
      if (!credential) return callback(replyError(REPLIES.authRequired.code, REPLIES.authRequired.text));
      const state = sessions.get(session.id);
      if (state) state.inData = true;
      const started = Date.now();
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
      };
      const disconnect = (reply: Reply, why: string) => {
        log.warn("smtp.disconnect", { sid: session.id, reason: why, smtp_code: reply.code });
        state?.connection?.send(reply.code, reply.text);
        state?.connection?.close();
      };
      const hooks = { disconnect, heldBack: () => heldBack(state?.connection) };
      forwardMessage(stream, credential, envelope, relay, limits, hooks).then((outcome) => {
        const { reply, relay: result } = outcome;
        if (state) {
          state.inData = false;
          state.messages++;
        }
        if (result.kind === "rejected" && result.status === 401) gate.forget(credential.keyHash);
        if (reply.code < 300) counters.accepted++;
        else if (reply.code < 500) counters.deferred++;
        else counters.rejected++;
        // A client that hung up mid-DATA is routine (a crash, a network drop); it is not a failure
        // of ours, so it gets its own event rather than looking like a refused or lost message.
        log.info(outcome.end === "client_disconnected" ? "smtp.aborted" : "smtp.message", {
          sid: session.id,
          workspace_id: credential.workspaceId,
          key_id: credential.keyId,
          from: envelope.mailFrom === "" ? "<>" : log.token(envelope.mailFrom),
          rcpt: envelope.rcptTo.map((r) => log.token(r)),
          bytes: outcome.bytes,
          local_rejection: outcome.localRejection,
          data_end: outcome.end,
          relay_outcome: result.kind,
          relay_status: result.kind === "accepted" ? 202 : result.status,
          relay_code: result.kind === "rejected" ? result.code : result.kind === "unavailable" ? result.reason : null,
          relay_id: result.kind === "accepted" ? result.id : null,
          replayed: result.kind === "accepted" ? result.replayed : null,
          smtp_code: reply.code,
          ms: Date.now() - started,
        });
        if (reply.code < 300) callback(null, reply.text);
        else callback(replyError(reply.code, reply.text));
      });
    },

    onClose(session) {
      const state = sessions.get(session.id);
      if (!state) return;
      clearTimeout(state.lifetime);
      sessions.delete(session.id);
      log.info("smtp.close", { sid: session.id, messages: state.messages, ms: Date.now() - state.startedAt });
    },
  };

  const common: SMTPServerOptions = {
    name: config.hostname,
    banner: "Relay SMTP bridge",
    key: deps.tls.key,
    cert: deps.tls.cert,
    minVersion: "TLSv1.2",
    size: config.maxMessageBytes,
    authMethods: ["PLAIN", "LOGIN"],
    // TLS-before-AUTH is enforced per session (see onConnect), not by this server-wide switch.
    allowInsecureAuth: true,
    authRequiredMessage: REPLIES.authRequired.text,
    disabledCommands: BASE_DISABLED,
    maxClients: config.maxClients,
    maxRecipients: config.maxRecipients,
    maxCommandLength: config.maxCommandLength,
    socketTimeout: config.idleTimeoutMs,
    closeTimeout: Math.max(1, config.shutdownTimeoutMs),
    disableReverseLookup: true,
    logger: false,
    ...handlers,
  };

  const listen = (server: SMTPServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once("error", onError);
      server.listen(port, config.smtpHost, () => {
        server.server.off("error", onError);
        const address = server.server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });

  const smtp = new SMTPServer({ ...common });
  servers.push(smtp);
  let smtps: SMTPServer | null = null;
  if (config.smtpsPort !== null) {
    smtps = new SMTPServer({ ...common, secure: true });
    servers.push(smtps);
  }
  for (const server of servers) {
    server.on("error", (err: Error & { code?: string }) => {
      log.warn("smtp.error", { error: err.message, code: err.code ?? null });
    });
  }

  let health: HealthServer | null = null;
  const stats = (): BridgeStats => ({ sessions: sessions.size, ...counters });
  try {
    const smtpPort = await listen(smtp, config.smtpPort);
    const smtpsPort = smtps && config.smtpsPort !== null ? await listen(smtps, config.smtpsPort) : null;
    if (config.healthPort !== null) {
      health = await startHealthServer(config.healthHost, config.healthPort, () => ({
        ok: !draining && servers.every((s) => s.server.listening),
        draining,
        ...stats(),
      }));
    }
    log.info("bridge.start", {
      smtp_port: smtpPort,
      smtps_port: smtpsPort,
      health_port: health?.port ?? null,
      relay: config.relayUrl.origin,
      tls: deps.tls.source,
      dev_insecure_auth: config.devInsecureAuth,
    });

    let drained: Promise<void> | null = null;
    const drain = async () => {
      draining = true;
      log.info("bridge.drain", { sessions: sessions.size, timeout_ms: config.shutdownTimeoutMs });
      for (const server of servers) server.server.close();
      const connections = () => servers.flatMap((s) => [...s.connections]);
      // Sessions between transactions are told to come back later; a transaction in flight
      // (MAIL given, DATA running, AUTH waiting on the relay) is left to finish.
      const closeIdle = () => {
        for (const connection of connections()) {
          const state = sessions.get(connection.id);
          const busy = Boolean(connection.session.envelope?.mailFrom) || state?.inData || state?.authPending;
          if (!busy) connection.send(REPLIES.shuttingDown.code, REPLIES.shuttingDown.text);
        }
      };
      const deadline = Date.now() + config.shutdownTimeoutMs;
      closeIdle();
      while (connections().length > 0 && Date.now() < deadline) {
        await sleep(100);
        closeIdle();
      }
      for (const connection of connections()) {
        connection.send(REPLIES.shuttingDown.code, REPLIES.shuttingDown.text);
      }
      const forceBy = Date.now() + 2000;
      while (connections().length > 0 && Date.now() < forceBy) await sleep(50);
      relay.close();
      await health?.close();
      log.info("bridge.stop", stats());
    };

    return {
      smtpPort,
      smtpsPort,
      healthPort: health?.port ?? null,
      stats,
      drain: () => (drained ??= drain()),
    };
  } catch (err) {
    for (const server of servers) server.server.close();
    await health?.close();
    relay.close();
    throw err;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
