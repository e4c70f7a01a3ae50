// Provider simulators for tests and benchmarks, in one Node process:
//   - HTTP: Mailgun (/v3/{domain}/messages[.mime], GET /v3/domains/{domain}), Google OAuth (/token), Gmail
//     (/gmail/v1/users/me/messages/send, /upload/gmail/v1/users/me/messages/send?uploadType=media),
//     OpenAI-compatible Chat Completions (/openai/{scope}/v1/chat/completions)
//     and a control API under /__sim/ (faults, received, counts, reset, settings)
//   - SMTP sink: STARTTLS/plain port and an implicit-TLS port, AUTH PLAIN/LOGIN
// Usage: const sims = await startSimulators(); ... sims.control.addFault({...}); await sims.close();
import { startHttpSim } from "./http-sim";
import type { FaultRule } from "./faults";
import { startSmtpSink } from "./smtp-sink";
import { SimulatorState, type Counts, type Received, type ReceivedKind } from "./state";
import { createTlsFixture, type TlsFixture } from "./tls-fixture";

export type { FaultRule, FaultTarget } from "./faults";
export type { Counts, GmailReceived, GmailTokenIssued, MailgunReceived, OpenAIReceived, ParsedSummary, Received, ReceivedKind, SmtpReceived } from "./state";

export interface SimulatorOptions {
  host?: string;
  /** 0 (default) picks free ports. */
  httpPort?: number;
  smtpPort?: number;
  smtpTlsPort?: number;
  /** Generate a test CA + localhost certificate with openssl (default true); without it there is no implicit-TLS port. */
  tls?: boolean;
  mailgunApiKey?: string;
  openaiApiKey?: string;
  gmailTokenTtlSeconds?: number;
  smtpUsername?: string;
  smtpPassword?: string;
  smtpRequireAuth?: boolean;
  smtpMaxSize?: number;
  /** Seed for failure percentages, for repeatable runs. */
  seed?: number;
}

/** Everything a client needs to reach the simulators; JSON-serialisable (vitest `provide`). */
export interface SimulatorInfo {
  host: string;
  httpPort: number;
  /** Base URL of the HTTP simulator and its control API. */
  httpUrl: string;
  mailgun: { baseUrl: string; apiKey: string };
  /** OpenAI-compatible Chat Completions: use `${baseUrl}/<scope>/v1` as a workspace's base_url. */
  openai: { baseUrl: string; apiKey: string };
  gmail: { tokenUrl: string; apiBaseUrl: string; uploadBaseUrl: string };
  smtp: { host: string; port: number; noPipeliningPort: number; tlsPort?: number; username: string; password: string };
  /** PEM of the CA that signed the SMTP sink's certificate, when TLS is on. */
  tlsCaPem?: string;
  /** System CA bundle + test CA; point SSL_CERT_FILE at it before workerd starts. */
  tlsTrustBundleFile?: string;
}

export interface SimulatorControl {
  addFault(rule: FaultRule): number;
  removeFault(id: number): void;
  clearFaults(scope?: string): void;
  received(kind?: ReceivedKind, scope?: string): Received[];
  counts(scope?: string): Counts;
  reset(scope?: string): void;
  registerServiceAccount(clientEmail: string, publicKeyPem: string): void;
  revokeGmailTokens(): void;
}

export interface Simulators {
  info: SimulatorInfo;
  control: SimulatorControl;
  close(): Promise<void>;
}

export async function startSimulators(options: SimulatorOptions = {}): Promise<Simulators> {
  const host = options.host ?? "127.0.0.1";
  const state = new SimulatorState(options.seed);
  const tls: TlsFixture | undefined = options.tls === false ? undefined : createTlsFixture();
  const username = options.smtpUsername ?? "relay";
  const password = options.smtpPassword ?? "sink-password";
  const httpSim = await startHttpSim(state, {
    host,
    port: options.httpPort ?? 0,
    mailgunApiKey: options.mailgunApiKey ?? "key-simulator-0123456789",
    gmailTokenTtlSeconds: options.gmailTokenTtlSeconds ?? 3600,
    openaiApiKey: options.openaiApiKey ?? "sk-simulator-0123456789",
  });
  const smtp = await startSmtpSink(state, {
    host,
    port: options.smtpPort ?? 0,
    tlsPort: options.smtpTlsPort ?? 0,
    ...(tls ? { tls } : {}),
    username,
    password,
    requireAuth: options.smtpRequireAuth ?? false,
    maxSize: options.smtpMaxSize ?? 30 * 1024 * 1024,
  });
  const httpUrl = `http://${host}:${httpSim.port}`;
  const info: SimulatorInfo = {
    host,
    httpPort: httpSim.port,
    httpUrl,
    mailgun: { baseUrl: httpUrl, apiKey: httpSim.settings.mailgunApiKey },
    openai: { baseUrl: `${httpUrl}/openai`, apiKey: httpSim.settings.openaiApiKey },
    gmail: { tokenUrl: `${httpUrl}/token`, apiBaseUrl: httpUrl, uploadBaseUrl: httpUrl },
    smtp: { host, port: smtp.port, noPipeliningPort: smtp.noPipeliningPort, ...(smtp.tlsPort !== undefined ? { tlsPort: smtp.tlsPort } : {}), username, password },
    ...(tls ? { tlsCaPem: tls.caPem, tlsTrustBundleFile: tls.trustBundleFile } : {}),
  };
  const control: SimulatorControl = {
    addFault: (rule) => state.faults.add(rule),
    removeFault: (id) => state.faults.remove(id),
    clearFaults: (scope) => state.faults.clear(scope),
    received: (kind, scope) => state.list(kind, scope),
    counts: (scope) => state.getCounts(scope),
    reset: (scope) => state.reset(scope),
    registerServiceAccount: (e, pem) => httpSim.registerServiceAccount(e, pem),
    revokeGmailTokens: () => httpSim.revokeTokens(),
  };
  return {
    info,
    control,
    close: async () => {
      httpSim.server.closeAllConnections();
      await Promise.all([new Promise<void>((r) => httpSim.server.close(() => r())), smtp.close()]);
      if (tls) (await import("node:fs")).rmSync(tls.dir, { recursive: true, force: true });
    },
  };
}
