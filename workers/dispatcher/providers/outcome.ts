// Shared error classification for the delivery providers: the mapping from an HTTP status,
// a Retry-After header or a thrown network error to the SendResult the pipeline acts on.
import type { SendResult } from "./types";

/** Retry-After as milliseconds from `nowMs`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function transient(reason: string, retryAfterMs?: number): SendResult {
  return retryAfterMs === undefined ? { status: "transient", reason } : { status: "transient", reason, retryAfterMs };
}

export function permanent(reason: string, extra: { configuration?: boolean; recipients?: { email: string; reason: string }[] } = {}): SendResult {
  return { status: "permanent", reason, ...extra };
}

/**
 * Default HTTP mapping: 408/425/429/5xx transient; 401/403 credential (configuration);
 * 404 configuration (unknown domain/mailbox); any other 4xx permanent for the message.
 * Providers refine this (Gmail's rate-limit 403s, Mailgun's network "400"s).
 */
export function classifyHttpStatus(status: number, reason: string, retryAfterMs?: number): SendResult {
  if (status === 408 || status === 425 || status === 429 || status >= 500) return transient(reason, retryAfterMs);
  if (status === 401 || status === 403 || status === 404) return permanent(reason, { configuration: true });
  if (status >= 400) return permanent(reason);
  // 1xx/3xx reaching us means the endpoint is not what we think it is.
  return permanent(reason, { configuration: true });
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

export function isAbortOrTimeout(e: unknown): boolean {
  return e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError");
}

/** fetch with a deadline: a hung provider must become a transient failure, not a stuck consumer. */
export async function fetchWithTimeout(
  fetchFn: typeof fetch,
  input: string,
  init: RequestInit,
  timeoutMs: number,
  /** The caller's deadline too (ProviderContext.signal): whichever ends first aborts the request. */
  deadline?: AbortSignal,
): Promise<Response> {
  return fetchFn(input, { ...init, signal: totalSignal(timeoutMs, deadline) });
}

/** A call's whole deadline: its own timeout, and the caller's signal when there is one. */
export function totalSignal(timeoutMs: number, deadline?: AbortSignal): AbortSignal {
  const own = AbortSignal.timeout(timeoutMs);
  return deadline ? AbortSignal.any([own, deadline]) : own;
}

/** Short, log-safe excerpt of a provider's error body (never a message body: providers echo errors only). */
export function excerpt(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max) + "…" : oneLine;
}
