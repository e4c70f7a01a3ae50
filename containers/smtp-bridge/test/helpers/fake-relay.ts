// A stand-in for the relay's HTTP API on loopback: GET /v1/me and POST /v1/messages/mime,
// deduplicating by Message-ID per workspace like the real one. Tests can script answers.
import http from "node:http";

export interface KeyInfo {
  workspace_id: string;
  key_id: string;
  scopes: string[];
}

export interface ReceivedMessage {
  id: string;
  mailFrom: string | null;
  rcptTo: string[];
  body: Buffer;
  authorization: string | undefined;
  contentType: string | undefined;
  source: string | undefined;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** wait this long before answering */
  delayMs?: number;
}

export class FakeRelay {
  readonly keys = new Map<string, KeyInfo>();
  /** every complete POST the relay accepted (202), replays excluded */
  readonly messages: ReceivedMessage[] = [];
  /** every complete POST body, whatever the answer */
  readonly posts: ReceivedMessage[] = [];
  /** POSTs that ended before the body was complete */
  aborted = 0;
  meCalls = 0;
  replays = 0;
  /** answer for the next POSTs instead of accepting (after the body has been read) */
  script: ((received: ReceivedMessage) => ScriptedAnswer | undefined) | null = null;
  /** delay every 202 by this much */
  acceptDelayMs = 0;
  /** refuse bodies over this many bytes with 413, as the relay does at its MAX_MESSAGE_BYTES */
  maxBodyBytes: number | null = null;
  readonly #byMessageId = new Map<string, string>();
  #server: http.Server | null = null;
  #seq = 0;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  addKey(key: string, info: Partial<KeyInfo> = {}): void {
    this.keys.set(key, { workspace_id: "ws_1", key_id: `key_${this.keys.size + 1}`, scopes: ["send"], ...info });
  }

  async start(): Promise<this> {
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
    return this;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #key(req: http.IncomingMessage): KeyInfo | undefined {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    return match ? this.keys.get(match[1]!) : undefined;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://relay.test");
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/v1/me") {
      this.meCalls++;
      const info = this.#key(req);
      if (!info) return json(401, { error: { code: "unauthorized", message: "invalid API key" } });
      return json(200, info);
    }
    if (req.method === "POST" && url.pathname === "/v1/messages/mime") {
      const chunks: Buffer[] = [];
      let complete = false;
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        complete = true;
        const received: ReceivedMessage = {
          id: "",
          mailFrom: url.searchParams.get("mail_from"),
          rcptTo: url.searchParams.getAll("rcpt_to"),
          body: Buffer.concat(chunks),
          authorization: req.headers.authorization,
          contentType: req.headers["content-type"],
          source: req.headers["x-relay-source"] as string | undefined,
        };
        this.posts.push(received);
        if (this.maxBodyBytes !== null && received.body.length > this.maxBodyBytes) {
          return json(413, { error: { code: "message_too_large", message: `message is ${received.body.length} bytes; the limit is ${this.maxBodyBytes}` } });
        }
        const scripted = this.script?.(received);
        if (scripted) {
          setTimeout(() => json(scripted.status, scripted.body ?? {}, scripted.headers), scripted.delayMs ?? 0);
          return;
        }
        const info = this.#key(req);
        if (!info) return json(401, { error: { code: "unauthorized", message: "invalid API key" } });
        const messageId = /^message-id[ \t]*:[ \t]*(.*)$/im.exec(received.body.toString("latin1").split("\r\n\r\n")[0]!)?.[1]?.trim();
        const dedupeKey = messageId ? `${info.workspace_id}|${messageId}` : null;
        const existing = dedupeKey ? this.#byMessageId.get(dedupeKey) : undefined;
        // The message is stored when it arrives; only the answer may be delayed.
        const status = 202;
        let payload: unknown;
        let headers: Record<string, string> = {};
        if (existing) {
          this.replays++;
          payload = { id: existing, status: "queued", recipients: [] };
          headers = { "idempotent-replayed": "true" };
        } else {
          received.id = `msg_${++this.#seq}`;
          if (dedupeKey) this.#byMessageId.set(dedupeKey, received.id);
          this.messages.push(received);
          payload = {
            id: received.id,
            status: "queued",
            recipients: received.rcptTo.map((email) => ({ email, status: "queued" })),
          };
        }
        if (this.acceptDelayMs > 0) setTimeout(() => json(status, payload, headers), this.acceptDelayMs);
        else json(status, payload, headers);
      });
      req.on("close", () => {
        if (!complete) this.aborted++;
      });
      return;
    }
    json(404, { error: { code: "not_found", message: "not found" } });
  }
}

/** A loopback URL where nothing listens: connection refused. */
export async function deadRelayUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
