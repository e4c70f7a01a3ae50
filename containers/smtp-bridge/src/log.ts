// One JSON object per line on stdout. Nothing here ever receives a message body or a
// credential; email addresses and usernames go through `token()` first.
import crypto from "node:crypto";
import type { LogLevel } from "./config.ts";

export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** Stable, non-reversible token for an address or username (HMAC-SHA-256, 16 hex digits). */
  token(value: string): string;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(options: {
  level: LogLevel;
  tokenKey: string | null;
  write?: (line: string) => void;
}): Logger {
  const min = RANK[options.level];
  // A random key still gives tokens that correlate within one process lifetime.
  const key = options.tokenKey ?? crypto.randomBytes(32).toString("hex");
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const emit = (level: LogLevel, event: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }));
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    token: (value) =>
      "t_" + crypto.createHmac("sha256", key).update(value.toLowerCase()).digest("hex").slice(0, 16),
  };
}

/** SHA-256 of an API key: the cache key and the only form of a key that may be logged. */
export function keyHash(apiKey: string): string {
  return crypto.createHash("sha256").update(apiKey).digest("hex");
}
