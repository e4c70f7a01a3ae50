// The relay's HTTP API as the bridge uses it: GET /v1/me to check a key, POST
// /v1/messages/mime to hand over a message. Outcomes are values; nothing here throws.
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { z } from "zod";

export type KeyCheck =
  | { kind: "valid"; workspaceId: string; keyId: string; scopes: string[] }
  | { kind: "invalid"; status: number }
  | { kind: "unavailable"; reason: string };

export type SubmitResult =
  | { kind: "accepted"; id: string; replayed: boolean }
  | { kind: "rejected"; status: number; code: string; message: string; retryAfterS: number | null }
  | { kind: "unavailable"; reason: string; status: number | null };

export interface Envelope {
  /** "" for the null sender */
  mailFrom: string;
  rcptTo: string[];
}

const meSchema = z.object({
  workspace_id: z.string().min(1),
  key_id: z.string().min(1),
  scopes: z.array(z.string()),
});

const acceptedSchema = z.object({ id: z.string().regex(/^[A-Za-z0-9_.:@-]{1,200}$/) });

const errorSchema = z.object({
  error: z.object({ code: z.string().max(100), message: z.string().max(2000).optional() }),
});

const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = "relay-smtp-bridge/0.1.0";

export class RelayClient {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;
  readonly #transport: typeof http | typeof https;

  constructor(options: { baseUrl: URL; timeoutMs: number; maxSockets: number }) {
    this.#base = options.baseUrl;
    this.#timeoutMs = options.timeoutMs;
    const secure = options.baseUrl.protocol === "https:";
    this.#transport = secure ? https : http;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: "lifo" as const };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  /** Builds {base}{path}, keeping a path prefix of the base URL. */
  url(path: string): URL {
    const url = new URL(this.#base.href);
    url.pathname = url.pathname.replace(/\/+$/, "") + path;
    return url;
  }

  async checkKey(apiKey: string): Promise<KeyCheck> {
    const response = await this.#exchange("GET", this.url("/v1/me"), apiKey, null);
    if ("error" in response) return { kind: "unavailable", reason: response.error };
    if (response.status === 401 || response.status === 403) return { kind: "invalid", status: response.status };
    if (response.status !== 200) return { kind: "unavailable", reason: `status_${response.status}` };
    const parsed = meSchema.safeParse(parseJson(response.body));
    if (!parsed.success) return { kind: "unavailable", reason: "malformed_response" };
    return {
      kind: "valid",
      workspaceId: parsed.data.workspace_id,
      keyId: parsed.data.key_id,
      scopes: parsed.data.scopes,
    };
  }

  /**
   * Streams `body` to POST /v1/messages/mime. Resolves as soon as the outcome is known: a
   * relay that answers before the upload is complete ends the upload. If `body` errors the
   * upload is aborted, so the relay never sees a complete request.
   */
  async submit(apiKey: string, envelope: Envelope, body: Readable): Promise<SubmitResult> {
    const url = this.url("/v1/messages/mime");
    url.searchParams.append("mail_from", envelope.mailFrom);
    for (const rcpt of envelope.rcptTo) url.searchParams.append("rcpt_to", rcpt);
    const response = await this.#exchange("POST", url, apiKey, body);
    if ("error" in response) return { kind: "unavailable", reason: response.error, status: null };
    const result = interpretSubmit(response.status, response.headers, response.body);
    // The relay cannot have the message before it has all of it; treat such an answer as
    // unknown and let the client retry (the relay deduplicates by Message-ID).
    if (result.kind === "accepted" && !response.complete) {
      return { kind: "unavailable", reason: "early_accept", status: response.status };
    }
    return result;
  }

  close(): void {
    this.#agent.destroy();
  }

  #exchange(
    method: "GET" | "POST",
    url: URL,
    apiKey: string,
    body: Readable | null,
  ): Promise<Exchange | { error: string }> {
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (value: Exchange | { error: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      };
      const headers: http.OutgoingHttpHeaders = {
        authorization: `Bearer ${apiKey}`,
        accept: "application/json",
        "user-agent": USER_AGENT,
      };
      if (body) {
        headers["content-type"] = "message/rfc822";
        // lets the relay record where the message came from (source "smtp")
        headers["x-relay-source"] = "smtp";
      }
      const req = this.#transport.request(url, { method, headers, agent: this.#agent });
      // The deadline covers waiting for the answer, not the client's own upload speed (the SMTP
      // side bounds that), so it starts once the whole request has been written.
      const armTimeout = () => {
        timer = setTimeout(() => req.destroy(new RelayTimeout()), this.#timeoutMs);
        timer.unref();
      };
      req.on("finish", armTimeout);
      req.on("error", (err: Error & { code?: string }) => {
        settle({ error: err instanceof RelayTimeout ? "timeout" : err instanceof BodyAborted ? "aborted" : (err.code ?? "request_error").toLowerCase() });
      });
      req.on("response", (res) => {
        readLimited(res, MAX_RESPONSE_BYTES).then(
          (text) => {
            settle({ status: res.statusCode ?? 0, headers: res.headers, body: text, complete: req.writableFinished });
            // An early answer (e.g. 413 or 401 before the body was read) ends the upload.
            if (!req.writableFinished) req.destroy();
          },
          () => settle({ error: "response_error" }),
        );
      });
      if (!body) {
        req.end();
        return;
      }
      body.on("error", () => req.destroy(new BodyAborted()));
      body.pipe(req);
    });
  }
}

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** the whole request had been written when the answer came */
  complete: boolean;
}

class RelayTimeout extends Error {
  constructor() {
    super("relay did not answer in time");
  }
}

class BodyAborted extends Error {
  constructor() {
    super("message body aborted");
  }
}

export function interpretSubmit(status: number, headers: http.IncomingHttpHeaders, body: string): SubmitResult {
  if (status >= 200 && status < 300) {
    const parsed = acceptedSchema.safeParse(parseJson(body));
    // A 2xx we cannot read could mean "queued"; asking the client to retry is safe because the
    // relay deduplicates by Message-ID.
    if (!parsed.success) return { kind: "unavailable", reason: "malformed_response", status };
    return { kind: "accepted", id: parsed.data.id, replayed: headerValue(headers["idempotent-replayed"]) === "true" };
  }
  if (status >= 400 && status < 500) {
    const parsed = errorSchema.safeParse(parseJson(body));
    return {
      kind: "rejected",
      status,
      code: parsed.success ? parsed.data.error.code : `http_${status}`,
      message: parsed.success ? (parsed.data.error.message ?? "") : "",
      retryAfterS: parseRetryAfter(headerValue(headers["retry-after"])),
    };
  }
  return { kind: "unavailable", reason: `status_${status}`, status };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readLimited(res: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk.subarray(0, limit - size));
      size += chunk.length;
    });
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    res.on("aborted", () => reject(new Error("aborted")));
  });
}
