// The one error model. Expected outcomes are values; this is for requests we refuse and for
// failures we did not expect. Every code maps to one HTTP status, so `onError` needs no table
// of its own and the SMTP bridge can map statuses to reply codes.

export const ERROR_CODES = {
  validation_error: 400,
  invalid_address: 400,
  header_injection: 400,
  invalid_mime: 400,
  unauthorized: 401,
  forbidden: 403,
  sender_domain_not_verified: 403,
  /** Inbound mail whose From domain is not authenticated (DMARC, or aligned DKIM/SPF). */
  sender_not_authenticated: 403,
  not_found: 404,
  conflict: 409,
  idempotency_conflict: 409,
  not_cancellable: 409,
  campaign_not_active: 409,
  message_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  no_provider: 422,
  unknown_campaign: 422,
  rate_limited: 429,
  internal_error: 500,
  not_implemented: 501,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The closed set of codes as a list, for schemas that enumerate them (the OpenAPI document). */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export class RelayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
    /** What went wrong underneath (ES2022 `cause`): logged for 5xx, never sent to the client. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RelayError";
    this.status = ERROR_CODES[code];
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export const notFound = (what: string) => new RelayError("not_found", `${what} not found`);
