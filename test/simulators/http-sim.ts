// One HTTP server speaking Mailgun's messages and domain endpoints, Google's OAuth token endpoint and
// Gmail's users.messages.send (simple and media upload), plus a control API under /__sim/
// so code running inside workerd can set failure modes and read what was received.
import http from "node:http";
import crypto from "node:crypto";
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from "jose";
import type { FaultRule } from "./faults";
import { sleep } from "./faults";
import { summarize, type SimulatorState } from "./state";
import { answerChat } from "./openai-sim";

export interface HttpSimOptions {
  host: string;
  port: number;
  /** Mailgun API key the simulator accepts (user "api"). */
  mailgunApiKey: string;
  /** Lifetime of issued Gmail access tokens. */
  gmailTokenTtlSeconds: number;
  /** Bearer key the OpenAI-compatible endpoint accepts. */
  openaiApiKey: string;
}

interface IssuedToken {
  sender: string;
  clientEmail: string;
  expiresAt: number;
}

export interface HttpSim {
  server: http.Server;
  port: number;
  /** Public keys (SPKI PEM) by client_email; a registered account gets its JWT signature checked. */
  registerServiceAccount(clientEmail: string, publicKeyPem: string): void;
  /** Makes every issued access token invalid (as if revoked), to exercise the refresh path. */
  revokeTokens(): void;
  settings: { mailgunApiKey: string; gmailTokenTtlSeconds: number; openaiApiKey: string };
}

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function send(res: http.ServerResponse, r: Reply): void {
  const isText = typeof r.body === "string";
  const payload = Buffer.from(isText ? (r.body as string) : JSON.stringify(r.body ?? {}));
  res.writeHead(r.status, {
    "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
    "content-length": String(payload.length),
    ...r.headers,
  });
  res.end(payload);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Applies a fault: returns a Reply to send, "handled" when the connection was dropped or left hanging, or undefined to proceed. */
async function applyFault(rule: FaultRule | undefined, req: http.IncomingMessage): Promise<Reply | "handled" | undefined> {
  if (!rule) return undefined;
  if (rule.latencyMs) await sleep(rule.latencyMs);
  if (rule.action === "drop") {
    req.socket.destroy();
    return "handled";
  }
  if (rule.action === "timeout") return "handled"; // never answer; the client's deadline fires
  if (rule.status === undefined) return undefined;
  return new Reply(rule.status, rule.body ?? defaultErrorBody(rule.status), rule.headers);
}

function defaultErrorBody(status: number): unknown {
  return { error: { code: status, message: `simulated ${status}`, status: status >= 500 ? "UNAVAILABLE" : "FAILED" }, message: `simulated ${status}` };
}

export async function startHttpSim(state: SimulatorState, opts: HttpSimOptions): Promise<HttpSim> {
  const settings = { mailgunApiKey: opts.mailgunApiKey, gmailTokenTtlSeconds: opts.gmailTokenTtlSeconds, openaiApiKey: opts.openaiApiKey };
  const accounts = new Map<string, string>();
  let tokens = new Map<string, IssuedToken>();

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const body = await readBody(req);
    const reply = await route(req, url, body);
    if (reply === "handled") return;
    send(res, reply);
  }

  async function route(req: http.IncomingMessage, url: URL, body: Buffer): Promise<Reply | "handled"> {
    const p = url.pathname;
    if (p.startsWith("/__sim/")) return control(req.method ?? "GET", url, body);
    const mg = /^\/v3\/([^/]+)\/(messages\.mime|messages)$/.exec(p);
    if (mg && req.method === "POST") return mailgun(req, decodeURIComponent(mg[1]!), mg[2] as "messages.mime" | "messages", body);
    const mgEvents = /^\/v3\/([^/]+)\/events$/.exec(p);
    if (mgEvents && req.method === "GET") return mailgunEvents(req, decodeURIComponent(mgEvents[1]!), url);
    const mgDomain = /^\/v3\/domains\/([^/]+)$/.exec(p);
    if (mgDomain && req.method === "GET") return mailgunDomain(req, decodeURIComponent(mgDomain[1]!));
    // OpenAI-compatible: base URL {http}/openai/{scope}/v1, so each test has its own scope.
    const oa = /^\/openai\/([^/]+)\/v1\/chat\/completions$/.exec(p);
    if (oa && req.method === "POST") return openai(req, decodeURIComponent(oa[1]!), body);
    if (p === "/token" && req.method === "POST") return gmailToken(req, url, body);
    if (p === "/gmail/v1/users/me/messages/send" && req.method === "POST") return gmailSend(req, body, "send");
    if (p === "/upload/gmail/v1/users/me/messages/send" && req.method === "POST") {
      if (url.searchParams.get("uploadType") !== "media") return new Reply(400, { error: { code: 400, message: "uploadType=media required", status: "INVALID_ARGUMENT" } });
      return gmailSend(req, body, "upload");
    }
    return new Reply(404, { error: { code: 404, message: `no simulator route for ${req.method} ${p}` } });
  }

  async function mailgun(req: http.IncomingMessage, domain: string, endpoint: "messages.mime" | "messages", body: Buffer): Promise<Reply | "handled"> {
    state.count("mailgun", domain);
    const rule = state.faults.pick("mailgun", domain);
    const unanswered = rule?.action === "accept_then_timeout";
    const fault = unanswered ? undefined : await applyFault(rule, req);
    if (fault) return fault;
    const auth = req.headers.authorization ?? "";
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    const sep = decoded.indexOf(":");
    const user = decoded.slice(0, sep);
    if (sep < 0 || user !== "api" || decoded.slice(sep + 1) !== settings.mailgunApiKey) return new Reply(401, "Forbidden");
    let form: FormData;
    try {
      form = await new Request("http://sim/", { method: "POST", headers: { "content-type": req.headers["content-type"] ?? "" }, body }).formData();
    } catch (e) {
      return new Reply(400, { message: `could not parse form data: ${(e as Error).message}` });
    }
    const fields: Record<string, string[]> = {};
    let mime = "";
    for (const [k, v] of form.entries()) {
      if (k === "message" && typeof v !== "string") {
        mime = await v.text();
        continue;
      }
      const s = typeof v === "string" ? v : await v.text();
      (fields[k] ??= []).push(s);
    }
    if (endpoint === "messages.mime" && !mime) return new Reply(400, { message: "'message' parameter is missing" });
    const to = (fields.to ?? []).flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
    if (to.length === 0) return new Reply(400, { message: "'to' parameter is missing" });
    const tags = fields["o:tag"] ?? [];
    if (tags.length > 3) return new Reply(400, { message: "Too many tags: maximum 3 tags per message" });
    const variables: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) if (k.startsWith("v:")) variables[k.slice(2)] = v[v.length - 1]!;
    const parsed = mime ? await summarize(mime) : undefined;
    state.record({ kind: "mailgun", at: Date.now(), scope: domain, domain, endpoint, apiUser: user, to, tags, variables, fields, mime, parsed, ...(unanswered ? { unanswered } : {}) });
    if (unanswered) return "handled"; // recorded, never answered: the client's deadline fires
    const id = parsed?.messageId ?? `<${Date.now()}.${crypto.randomBytes(6).toString("hex")}@${domain}>`;
    return new Reply(200, { id, message: "Queued. Thank you." });
  }

  /** POST /v1/chat/completions. Every request is recorded, refused or not, so tests see exactly what left. */
  async function openai(req: http.IncomingMessage, scope: string, body: Buffer): Promise<Reply | "handled"> {
    state.count("openai", scope);
    const rule = state.faults.pick("openai", scope);
    const raw = body.toString("utf8");
    const authorization = req.headers.authorization ?? "";
    const answer = answerChat(raw, rule?.llm, rule?.usageTotalTokens);
    state.record({ kind: "openai", at: Date.now(), scope, model: answer.model, authorization, body: raw });
    const fault = await applyFault(rule, req);
    if (fault) return fault;
    if (authorization !== `Bearer ${settings.openaiApiKey}`) {
      return new Reply(401, { error: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" } });
    }
    return new Reply(answer.status, answer.body);
  }

  /**
   * GET /v3/{domain}/events?message-id=…&event=…: Mailgun's Events API, answered from the messages
   * this simulator recorded for the domain (those taken under "accept_then_timeout" included):
   * one `accepted` event per recipient, newest first. Faults: target "mailgun-events", scope = domain.
   */
  async function mailgunEvents(req: http.IncomingMessage, domain: string, url: URL): Promise<Reply | "handled"> {
    state.count("mailgun-events", domain);
    const fault = await applyFault(state.faults.pick("mailgun-events", domain), req);
    if (fault) return fault;
    const auth = req.headers.authorization ?? "";
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    if (decoded !== `api:${settings.mailgunApiKey}`) return new Reply(401, "Forbidden");
    const wantedId = url.searchParams.get("message-id");
    const wantedEvent = url.searchParams.get("event");
    const bare = (id: string | undefined) => (id ?? "").trim().replace(/^<|>$/g, "");
    const items = state
      .list("mailgun", domain)
      .filter((r): r is Extract<typeof r, { kind: "mailgun" }> => r.kind === "mailgun" && r.domain.toLowerCase() === domain.toLowerCase())
      .filter((r) => wantedId === null || bare(r.parsed?.messageId) === bare(wantedId))
      .flatMap((r) =>
        r.to.map((recipient) => ({
          id: crypto.createHash("sha256").update(`${r.at}:${recipient}:${bare(r.parsed?.messageId)}`).digest("base64url").slice(0, 22),
          event: "accepted",
          timestamp: r.at / 1000,
          recipient,
          "user-variables": r.variables,
          message: { headers: { "message-id": bare(r.parsed?.messageId), to: recipient, subject: r.parsed?.subject ?? "" } },
        })),
      )
      .filter((e) => wantedEvent === null || wantedEvent.split(/\s+OR\s+/i).includes(e.event))
      .reverse();
    return new Reply(200, { items, paging: {} });
  }

  /** GET /v3/domains/{domain}: the health probe's target. Faults: target "mailgun-domain", scope = domain. */
  async function mailgunDomain(req: http.IncomingMessage, domain: string): Promise<Reply | "handled"> {
    state.count("mailgun-domain", domain);
    const fault = await applyFault(state.faults.pick("mailgun-domain", domain), req);
    if (fault) return fault;
    const auth = req.headers.authorization ?? "";
    const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
    if (decoded !== `api:${settings.mailgunApiKey}`) return new Reply(401, "Forbidden");
    return new Reply(200, { domain: { name: domain, state: "active", is_disabled: false, type: "custom", created_at: new Date(0).toUTCString() }, receiving_dns_records: [], sending_dns_records: [] });
  }

  async function gmailToken(req: http.IncomingMessage, url: URL, body: Buffer): Promise<Reply | "handled"> {
    const params = new URLSearchParams(body.toString("utf8"));
    const assertion = params.get("assertion") ?? "";
    let claims: Record<string, unknown> = {};
    let header: Record<string, unknown> = {};
    try {
      claims = decodeJwt(assertion) as Record<string, unknown>;
      header = decodeProtectedHeader(assertion) as Record<string, unknown>;
    } catch {
      // answered below
    }
    const sender = typeof claims.sub === "string" ? claims.sub : "";
    state.count("gmail-token", sender);
    const fault = await applyFault(state.faults.pick("gmail-token", sender), req);
    if (fault) return fault;
    const invalid = (description: string) => new Reply(400, { error: "invalid_grant", error_description: description });
    if (params.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") return new Reply(400, { error: "unsupported_grant_type", error_description: "Invalid grant_type" });
    if (!assertion || typeof claims.iss !== "string") return invalid("Invalid JWT");
    if (header.alg !== "RS256") return invalid("Invalid JWT: alg must be RS256");
    const audience = `http://${req.headers.host}${url.pathname}`;
    if (claims.aud !== audience) return invalid(`Invalid JWT: aud must be ${audience}`);
    if (typeof claims.scope !== "string" || !claims.scope.split(" ").includes("https://www.googleapis.com/auth/gmail.send")) return invalid("Invalid JWT: scope");
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== "number" || typeof claims.iat !== "number" || claims.exp <= now - 60 || claims.exp - claims.iat > 3600) return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe");
    if (!sender) return new Reply(400, { error: "unauthorized_client", error_description: "Client is unauthorized to retrieve access tokens using this method: sub missing" });
    let signatureVerified = false;
    const spki = accounts.get(claims.iss);
    if (spki) {
      try {
        await jwtVerify(assertion, await importSPKI(spki, "RS256"), { issuer: claims.iss, audience, clockTolerance: 300 });
        signatureVerified = true;
      } catch {
        return invalid("Invalid JWT Signature.");
      }
    }
    state.record({ kind: "gmail-token", at: Date.now(), scope: sender, clientEmail: claims.iss, claims, header, signatureVerified });
    const token = `ya29.sim-${crypto.randomBytes(12).toString("hex")}`;
    tokens.set(token, { sender, clientEmail: claims.iss, expiresAt: Date.now() + settings.gmailTokenTtlSeconds * 1000 });
    return new Reply(200, { access_token: token, expires_in: settings.gmailTokenTtlSeconds, token_type: "Bearer" });
  }

  async function gmailSend(req: http.IncomingMessage, body: Buffer, endpoint: "send" | "upload"): Promise<Reply | "handled"> {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? tokens.get(auth.slice(7)) : undefined;
    const sender = token?.sender ?? "";
    state.count("gmail-send", sender);
    const fault = await applyFault(state.faults.pick("gmail-send", sender), req);
    if (fault) return fault;
    if (!token || token.expiresAt <= Date.now()) {
      return new Reply(401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED", errors: [{ reason: "authError" }] } }, { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' });
    }
    let raw: Buffer;
    if (endpoint === "upload") {
      if (!String(req.headers["content-type"] ?? "").startsWith("message/rfc822")) return new Reply(400, { error: { code: 400, message: "Media type must be message/rfc822", status: "INVALID_ARGUMENT" } });
      raw = body;
    } else {
      let j: { raw?: unknown };
      try {
        j = JSON.parse(body.toString("utf8")) as { raw?: unknown };
      } catch {
        return new Reply(400, { error: { code: 400, message: "Invalid JSON payload received.", status: "INVALID_ARGUMENT" } });
      }
      if (typeof j.raw !== "string" || !/^[A-Za-z0-9_-]*$/.test(j.raw)) return new Reply(400, { error: { code: 400, message: "Invalid value for ByteString", status: "INVALID_ARGUMENT" } });
      raw = Buffer.from(j.raw, "base64url");
    }
    const parsed = await summarize(new Uint8Array(raw));
    if (!parsed || (parsed.to.length === 0 && parsed.cc.length === 0 && !parsed.headers.some((h) => h.key === "bcc"))) {
      return new Reply(400, { error: { code: 400, message: "Recipient address required", status: "INVALID_ARGUMENT", errors: [{ reason: "invalidArgument" }] } });
    }
    state.record({ kind: "gmail", at: Date.now(), scope: sender, sender, endpoint, raw: raw.toString("utf8"), parsed });
    const id = crypto.randomBytes(8).toString("hex");
    return new Reply(200, { id, threadId: id, labelIds: ["SENT"] });
  }

  function control(method: string, url: URL, body: Buffer): Reply {
    const scope = url.searchParams.get("scope") ?? undefined;
    const json = () => (body.length ? (JSON.parse(body.toString("utf8")) as unknown) : {});
    const p = url.pathname.slice("/__sim".length);
    if (p === "/faults" && method === "POST") {
      const rules = json();
      const ids = (Array.isArray(rules) ? rules : [rules]).map((r) => state.faults.add(r as FaultRule));
      return new Reply(200, { ids });
    }
    if (p === "/faults" && method === "GET") return new Reply(200, state.faults.list());
    if (p === "/faults" && method === "DELETE") {
      state.faults.clear(scope);
      return new Reply(200, {});
    }
    if (p === "/received" && method === "GET") {
      const kind = url.searchParams.get("kind") ?? undefined;
      return new Reply(200, state.list(kind as Parameters<SimulatorState["list"]>[0], scope));
    }
    if (p === "/counts" && method === "GET") return new Reply(200, state.getCounts(scope));
    if (p === "/reset" && method === "POST") {
      state.reset(scope);
      return new Reply(200, {});
    }
    if (p === "/gmail/accounts" && method === "POST") {
      const { clientEmail, publicKeyPem } = json() as { clientEmail: string; publicKeyPem: string };
      accounts.set(clientEmail, publicKeyPem);
      return new Reply(200, {});
    }
    if (p === "/gmail/revoke" && method === "POST") {
      tokens = new Map();
      return new Reply(200, {});
    }
    if (p === "/settings" && method === "POST") {
      Object.assign(settings, json());
      return new Reply(200, settings);
    }
    if (p === "/settings" && method === "GET") return new Reply(200, settings);
    return new Reply(404, { error: `unknown control route ${method} ${p}` });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, new Reply(500, { error: { code: 500, message: `simulator error: ${(e as Error).message}` } }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    settings,
    registerServiceAccount: (clientEmail, publicKeyPem) => accounts.set(clientEmail, publicKeyPem),
    revokeTokens: () => {
      tokens = new Map();
    },
  };
}
