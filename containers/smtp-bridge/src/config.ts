// Configuration comes from the environment only, validated once at start. Every problem is
// reported at once, so an operator fixes the deployment in one round instead of several.
import os from "node:os";
import { z } from "zod";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface BridgeConfig {
  /** true unless NODE_ENV=production: enables the local-development defaults below */
  dev: boolean;
  relayUrl: URL;
  relayTimeoutMs: number;
  relayMaxSockets: number;
  smtpHost: string;
  smtpPort: number;
  /** implicit TLS listener (465 by convention), off when null */
  smtpsPort: number | null;
  /** null: generate a self-signed pair at start (development only) */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  hostname: string;
  maxMessageBytes: number;
  maxRecipients: number;
  maxClients: number;
  maxLineLength: number;
  maxHeaderBytes: number;
  maxCommandLength: number;
  idleTimeoutMs: number;
  dataTimeoutMs: number;
  sessionTimeoutMs: number;
  authCacheTtlMs: number;
  authNegativeCacheTtlMs: number;
  authMaxFailuresPerIp: number;
  authMaxFailuresPerUser: number;
  authFailureWindowMs: number;
  /** AUTH without TLS, only ever for clients connecting from a loopback address */
  devInsecureAuth: boolean;
  healthHost: string;
  /** null disables the health server */
  healthPort: number | null;
  shutdownTimeoutMs: number;
  logLevel: LogLevel;
  /** HMAC key for address tokens in logs; random per process when unset */
  logTokenKey: string | null;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["1", "0", "true", "false", "yes", "no", "on", "off"].includes(v), "expected true or false")
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const port = int(0, 65535);
const seconds = (min: number, max: number) => int(min, max).transform((s) => s * 1000);
const nonEmpty = z.string().trim().min(1, "must not be empty");

// Hostname for the banner and for generated Message-IDs: a dot-atom, so it can stand in a msg-id.
const hostnameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/, "expected a DNS hostname")
  .max(253);

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  RELAY_URL: z.string().trim().optional(),
  BRIDGE_ALLOW_INSECURE_RELAY: bool.optional(),
  BRIDGE_RELAY_TIMEOUT_S: seconds(1, 600).optional(),
  BRIDGE_RELAY_MAX_SOCKETS: int(1, 10_000).optional(),
  BRIDGE_SMTP_HOST: nonEmpty.optional(),
  BRIDGE_SMTP_PORT: port.optional(),
  BRIDGE_SMTPS_PORT: z.union([z.literal(""), port]).optional(),
  BRIDGE_TLS_CERT_FILE: nonEmpty.optional(),
  BRIDGE_TLS_KEY_FILE: nonEmpty.optional(),
  BRIDGE_HOSTNAME: hostnameSchema.optional(),
  BRIDGE_MAX_MESSAGE_BYTES: int(1024, 1024 * 1024 * 1024).optional(),
  BRIDGE_MAX_RECIPIENTS: int(1, 10_000).optional(),
  BRIDGE_MAX_CLIENTS: int(1, 100_000).optional(),
  BRIDGE_MAX_LINE_LENGTH: int(78, 1024 * 1024).optional(),
  BRIDGE_MAX_HEADER_BYTES: int(1024, 16 * 1024 * 1024).optional(),
  BRIDGE_MAX_COMMAND_LENGTH: int(512, 64 * 1024).optional(),
  BRIDGE_IDLE_TIMEOUT_S: seconds(1, 3600).optional(),
  BRIDGE_DATA_TIMEOUT_S: seconds(1, 24 * 3600).optional(),
  BRIDGE_SESSION_TIMEOUT_S: seconds(1, 7 * 24 * 3600).optional(),
  BRIDGE_AUTH_CACHE_TTL_S: seconds(0, 3600).optional(),
  BRIDGE_AUTH_NEGATIVE_CACHE_TTL_S: seconds(0, 3600).optional(),
  BRIDGE_AUTH_MAX_FAILURES_PER_IP: int(1, 1_000_000).optional(),
  BRIDGE_AUTH_MAX_FAILURES_PER_USER: int(1, 1_000_000).optional(),
  BRIDGE_AUTH_FAILURE_WINDOW_S: seconds(1, 7 * 24 * 3600).optional(),
  BRIDGE_DEV_INSECURE_AUTH: bool.optional(),
  BRIDGE_HEALTH_HOST: nonEmpty.optional(),
  BRIDGE_HEALTH_PORT: z.union([z.literal(""), port]).optional(),
  BRIDGE_SHUTDOWN_TIMEOUT_S: seconds(0, 3600).optional(),
  BRIDGE_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional(),
  BRIDGE_LOG_TOKEN_KEY: z.string().min(16, "must be at least 16 characters").optional(),
});

/** Environment variables the bridge reads, for the README and error messages. */
export const ENV_KEYS = Object.keys(envSchema.shape);

function defaultHostname(): string {
  const parsed = hostnameSchema.safeParse(os.hostname());
  return parsed.success ? parsed.data : "smtp-bridge.invalid";
}

export function loadConfig(env: Record<string, string | undefined>): BridgeConfig {
  // An empty variable means "unset", as docker-compose writes `FOO=` for a blank value.
  const present: Record<string, string> = {};
  for (const key of ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && (value !== "" || key === "BRIDGE_SMTPS_PORT" || key === "BRIDGE_HEALTH_PORT")) {
      present[key] = value;
    }
  }
  // Each variable on its own, so one bad value does not hide the problems of the others.
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(envSchema.shape)) {
    if (!(key in present)) continue;
    const result = schema.safeParse(present[key]);
    if (result.success) values[key] = result.data;
    else problems.push(...result.error.issues.map((i) => `${key}: ${i.message}`));
  }
  const e = values as z.infer<typeof envSchema>;
  const dev = (e.NODE_ENV ?? "").trim().toLowerCase() !== "production";

  let relayUrl: URL | null = null;
  const rawRelay = e.RELAY_URL ?? (dev ? "http://127.0.0.1:8787" : undefined);
  if (!rawRelay) {
    problems.push("RELAY_URL: required (the relay's base URL, e.g. https://relay.example.com)");
  } else {
    try {
      relayUrl = new URL(rawRelay);
      if (relayUrl.protocol !== "https:" && relayUrl.protocol !== "http:") {
        problems.push(`RELAY_URL: must be an http(s) URL, got ${relayUrl.protocol}`);
      } else if (
        relayUrl.protocol === "http:" &&
        !LOOPBACK_HOSTS.has(relayUrl.hostname) &&
        !e.BRIDGE_ALLOW_INSECURE_RELAY
      ) {
        problems.push(
          "RELAY_URL: plain http is only allowed to a loopback host (API keys travel in it); use https or set BRIDGE_ALLOW_INSECURE_RELAY=true",
        );
      }
      if (relayUrl.username || relayUrl.password) {
        problems.push("RELAY_URL: must not contain credentials");
      }
      if (relayUrl.search || relayUrl.hash) {
        problems.push("RELAY_URL: must not contain a query or fragment");
      }
    } catch {
      problems.push(`RELAY_URL: not a valid URL`);
    }
  }

  const cert = e.BRIDGE_TLS_CERT_FILE ?? null;
  const key = e.BRIDGE_TLS_KEY_FILE ?? null;
  if ((cert === null) !== (key === null)) {
    problems.push("BRIDGE_TLS_CERT_FILE and BRIDGE_TLS_KEY_FILE: set both or neither");
  } else if (cert === null && !dev) {
    problems.push(
      "BRIDGE_TLS_CERT_FILE and BRIDGE_TLS_KEY_FILE: required in production (a self-signed pair is only generated when NODE_ENV is not production)",
    );
  }

  const smtpPort = e.BRIDGE_SMTP_PORT ?? 2525;
  const smtpsPort = e.BRIDGE_SMTPS_PORT === "" || e.BRIDGE_SMTPS_PORT === undefined ? null : e.BRIDGE_SMTPS_PORT;
  const healthPort = e.BRIDGE_HEALTH_PORT === "" ? null : (e.BRIDGE_HEALTH_PORT ?? 8025);
  if (smtpsPort !== null && smtpsPort !== 0 && smtpsPort === smtpPort) {
    problems.push("BRIDGE_SMTPS_PORT: must differ from BRIDGE_SMTP_PORT");
  }
  if (healthPort !== null && healthPort !== 0 && (healthPort === smtpPort || healthPort === smtpsPort)) {
    problems.push("BRIDGE_HEALTH_PORT: must differ from the SMTP ports");
  }

  const devInsecureAuth = e.BRIDGE_DEV_INSECURE_AUTH ?? dev;
  if (devInsecureAuth && !dev) {
    problems.push("BRIDGE_DEV_INSECURE_AUTH: not allowed with NODE_ENV=production");
  }

  if (problems.length > 0 || relayUrl === null) {
    throw new ConfigError(problems);
  }

  return {
    dev,
    relayUrl,
    relayTimeoutMs: e.BRIDGE_RELAY_TIMEOUT_S ?? 30_000,
    relayMaxSockets: e.BRIDGE_RELAY_MAX_SOCKETS ?? 64,
    smtpHost: e.BRIDGE_SMTP_HOST ?? "0.0.0.0",
    smtpPort,
    smtpsPort,
    tlsCertFile: cert,
    tlsKeyFile: key,
    hostname: e.BRIDGE_HOSTNAME ?? defaultHostname(),
    maxMessageBytes: e.BRIDGE_MAX_MESSAGE_BYTES ?? 25 * 1024 * 1024,
    maxRecipients: e.BRIDGE_MAX_RECIPIENTS ?? 100,
    maxClients: e.BRIDGE_MAX_CLIENTS ?? 500,
    maxLineLength: e.BRIDGE_MAX_LINE_LENGTH ?? 998,
    maxHeaderBytes: e.BRIDGE_MAX_HEADER_BYTES ?? 256 * 1024,
    maxCommandLength: e.BRIDGE_MAX_COMMAND_LENGTH ?? 4096,
    idleTimeoutMs: e.BRIDGE_IDLE_TIMEOUT_S ?? 120_000,
    dataTimeoutMs: e.BRIDGE_DATA_TIMEOUT_S ?? 600_000,
    sessionTimeoutMs: e.BRIDGE_SESSION_TIMEOUT_S ?? 3_600_000,
    authCacheTtlMs: e.BRIDGE_AUTH_CACHE_TTL_S ?? 60_000,
    authNegativeCacheTtlMs: e.BRIDGE_AUTH_NEGATIVE_CACHE_TTL_S ?? 10_000,
    authMaxFailuresPerIp: e.BRIDGE_AUTH_MAX_FAILURES_PER_IP ?? 10,
    authMaxFailuresPerUser: e.BRIDGE_AUTH_MAX_FAILURES_PER_USER ?? 5,
    authFailureWindowMs: e.BRIDGE_AUTH_FAILURE_WINDOW_S ?? 900_000,
    devInsecureAuth,
    healthHost: e.BRIDGE_HEALTH_HOST ?? "0.0.0.0",
    healthPort,
    shutdownTimeoutMs: e.BRIDGE_SHUTDOWN_TIMEOUT_S ?? 25_000,
    logLevel: e.BRIDGE_LOG_LEVEL ?? "info",
    logTokenKey: e.BRIDGE_LOG_TOKEN_KEY ?? null,
  };
}
