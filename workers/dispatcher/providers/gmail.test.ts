import { beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { exportPKCS8, exportSPKI, generateKeyPair, jwtVerify } from "jose";
import PostalMime from "postal-mime";
import { simulatorClient, socketFetch } from "../../../test/simulators/workerd-client";
import { createGmailProvider, gmailConfigSchema, gmailCredentialsSchema, GMAIL_SEND_SCOPE } from "./gmail";
import { clearGmailTokenCache } from "./gmail-token";
import { makeCtx, makeMessage, uniq } from "./test-fixtures";

const TOKEN_URL = "https://oauth2.googleapis.com/token";
let privatePem = "";
let publicKey: CryptoKey;
let publicPem = "";

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privatePem = await exportPKCS8(pair.privateKey);
  publicPem = await exportSPKI(pair.publicKey);
  publicKey = pair.publicKey as CryptoKey;
});

beforeEach(() => {
  clearGmailTokenCache();
});

const creds = (clientEmail = "relay-sender@project.iam.gserviceaccount.com") => ({ client_email: clientEmail, private_key: privatePem, private_key_id: "kid-1" });

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

/** A fake Google: token endpoint plus send endpoints, with scripted send answers. */
function fakeGoogle(sendAnswers: (() => Response)[] = [], tokenAnswer?: () => Response) {
  const seen: Seen[] = [];
  let tokenN = 0;
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = await req.text();
    seen.push({ url: req.url, method: req.method, headers: req.headers, body });
    if (req.url === TOKEN_URL) {
      if (tokenAnswer) return tokenAnswer();
      tokenN++;
      return Response.json({ access_token: `ya29.token-${tokenN}`, expires_in: 3599, token_type: "Bearer" });
    }
    const next = sendAnswers.shift();
    return next ? next() : Response.json({ id: "18c0ffee", threadId: "18c0ffee", labelIds: ["SENT"] });
  });
  return { seen, fetchFn: fetchFn as unknown as typeof fetch, tokens: () => seen.filter((s) => s.url === TOKEN_URL), sends: () => seen.filter((s) => s.url !== TOKEN_URL) };
}

function b64urlDecode(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

describe("gmail config", () => {
  it("validates the sender, URLs and the service-account key", () => {
    const c = gmailConfigSchema.parse({ sender: "clinic@example.org" });
    expect(c.token_url).toBe(TOKEN_URL);
    expect(c.api_base_url).toBe("https://gmail.googleapis.com");
    expect(gmailConfigSchema.safeParse({ sender: "nope" }).success).toBe(false);
    expect(gmailCredentialsSchema.safeParse(creds()).success).toBe(true);
    // The JSON key file's escaped newlines are accepted; extra fields are dropped.
    const fromJson = gmailCredentialsSchema.parse({ type: "service_account", project_id: "p", client_email: "a@p.iam.gserviceaccount.com", private_key: privatePem.replace(/\n/g, "\\n") });
    expect(fromJson).not.toHaveProperty("type");
    expect(fromJson.private_key.startsWith("-----BEGIN PRIVATE KEY-----\n")).toBe(true);
    const rsa = gmailCredentialsSchema.safeParse({ client_email: "a@p.iam.gserviceaccount.com", private_key: "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----" });
    expect(rsa.success).toBe(false);
  });
  it("takes snake_case config fields only", () => {
    const c = gmailConfigSchema.parse({ sender: "clinic@example.org", token_url: "http://127.0.0.1:1/token", api_base_url: "http://127.0.0.1:1", upload_base_url: "http://127.0.0.1:2", max_simple_body_bytes: 4096, timeout_ms: 2000 });
    expect(c).toEqual({ sender: "clinic@example.org", token_url: "http://127.0.0.1:1/token", api_base_url: "http://127.0.0.1:1", upload_base_url: "http://127.0.0.1:2", max_simple_body_bytes: 4096, timeout_ms: 2000 });
    expect(gmailConfigSchema.safeParse({ sender: "clinic@example.org", tokenUrl: "http://127.0.0.1:1/token" }).success).toBe(false);
  });
});

describe("gmail wire format", () => {
  it("signs a delegation JWT, exchanges it, and sends the raw message base64url-encoded", async () => {
    const g = fakeGoogle();
    const ctx = makeCtx(g.fetchFn);
    const msg = makeMessage({ to: ["patient@example.com"] });
    const res = await createGmailProvider({ sender: "clinic@example.org" }, creds()).send(msg, ctx);
    expect(res).toEqual({ status: "sent", providerMessageId: "18c0ffee" });

    const [tok] = g.tokens();
    expect(tok?.method).toBe("POST");
    expect(tok?.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const form = new URLSearchParams(tok!.body);
    expect([...form.keys()].sort()).toEqual(["assertion", "grant_type"]);
    expect(form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const { payload, protectedHeader } = await jwtVerify(form.get("assertion")!, publicKey, {
      issuer: "relay-sender@project.iam.gserviceaccount.com",
      audience: TOKEN_URL,
      subject: "clinic@example.org",
      currentDate: new Date(ctx.now()),
    });
    expect(protectedHeader).toEqual({ alg: "RS256", typ: "JWT", kid: "kid-1" });
    expect(payload.scope).toBe(GMAIL_SEND_SCOPE);
    expect(payload.iat).toBe(ctx.now() / 1000);
    expect(payload.exp).toBe(ctx.now() / 1000 + 3600);
    expect(Object.keys(payload).sort()).toEqual(["aud", "exp", "iat", "iss", "scope", "sub"]);

    const [send] = g.sends();
    expect(send?.url).toBe("https://gmail.googleapis.com/gmail/v1/users/me/messages/send");
    expect(send?.method).toBe("POST");
    expect(send?.headers.get("authorization")).toBe("Bearer ya29.token-1");
    expect(send?.headers.get("content-type")).toBe("application/json");
    const json = JSON.parse(send!.body) as { raw: string };
    expect(Object.keys(json)).toEqual(["raw"]);
    expect(json.raw).toMatch(/^[A-Za-z0-9_-]+$/);
    const raw = b64urlDecode(json.raw);
    expect(raw).toEqual(msg.raw);
    const [sent, original] = await Promise.all([PostalMime.parse(raw), PostalMime.parse(msg.raw)]);
    expect(sent.headers).toEqual(original.headers);
    expect(sent.messageId).toBe(msg.messageIdHeader);
    expect(sent.text).toBe(original.text);
    expect(sent.html).toBe(original.html);
    expect(sent.attachments.map((a) => [a.filename, a.mimeType, new Uint8Array(a.content as ArrayBuffer)])).toEqual([["letter.pdf", "application/pdf", msg.attachments[0]!.content]]);
  });

  it("fetches the token once for many sends, concurrent or not, and again near expiry", async () => {
    const g = fakeGoogle();
    const ctx = makeCtx(g.fetchFn);
    const provider = createGmailProvider({ sender: "clinic@example.org" }, creds());
    const other = createGmailProvider({ sender: "clinic@example.org" }, creds()); // same account, another instance
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? provider : other).send(makeMessage(), ctx)));
    expect(results.every((r) => r.status === "sent")).toBe(true);
    await provider.send(makeMessage(), ctx);
    expect(g.tokens()).toHaveLength(1);
    ctx.advance(3599_000 - 61_000);
    await provider.send(makeMessage(), ctx);
    expect(g.tokens()).toHaveLength(1);
    ctx.advance(2_000); // now inside the 60 s margin
    await provider.send(makeMessage(), ctx);
    expect(g.tokens()).toHaveLength(2);
    expect(g.sends().at(-1)?.headers.get("authorization")).toBe("Bearer ya29.token-2");
    // A different mailbox is a different grant.
    await createGmailProvider({ sender: "billing@example.org" }, creds()).send(makeMessage(), ctx);
    expect(g.tokens()).toHaveLength(3);
  });

  it("uses the media upload endpoint for large messages", async () => {
    const g = fakeGoogle();
    const msg = makeMessage({ extraText: "x".repeat(4000) });
    const res = await createGmailProvider({ sender: "clinic@example.org", max_simple_body_bytes: 2048, upload_base_url: "https://upload.example.test" }, creds()).send(msg, makeCtx(g.fetchFn));
    expect(res.status).toBe("sent");
    const [send] = g.sends();
    expect(send?.url).toBe("https://upload.example.test/upload/gmail/v1/users/me/messages/send?uploadType=media");
    expect(send?.headers.get("content-type")).toBe("message/rfc822");
    expect(send?.headers.get("authorization")).toBe("Bearer ya29.token-1");
    expect(send?.body).toBe(new TextDecoder().decode(msg.raw));
  });

  it("adds envelope recipients missing from To/Cc as Bcc, and refuses a subset of To/Cc", async () => {
    const g = fakeGoogle();
    const msg = makeMessage({ to: ["Pat <patient@example.com>"], recipients: ["patient@example.com", "hidden@example.com"] });
    expect((await createGmailProvider({ sender: "clinic@example.org" }, creds()).send(msg, makeCtx(g.fetchFn))).status).toBe("sent");
    const raw = new TextDecoder().decode(b64urlDecode((JSON.parse(g.sends()[0]!.body) as { raw: string }).raw));
    expect(raw.startsWith("Bcc: hidden@example.com\r\nFrom: Clinic <clinic@example.org>\r\n")).toBe(true);

    const subset = makeMessage({ to: ["a@example.com", "b@example.com"], recipients: ["a@example.com"] });
    const res = await createGmailProvider({ sender: "clinic@example.org" }, creds()).send(subset, makeCtx(g.fetchFn));
    expect(res.status).toBe("permanent");
    expect(g.sends()).toHaveLength(1);
  });
});

describe("gmail error classification", () => {
  const gErr = (status: number, message: string, reason?: string, statusText = "FAILED", headers: Record<string, string> = {}) => () =>
    Response.json({ error: { code: status, message, status: statusText, ...(reason ? { errors: [{ reason }] } : {}) } }, { status, headers });
  const cases: [string, (() => Response)[], Record<string, unknown>, number][] = [
    // [name, send answers, expected, token requests]
    ["400 invalid recipient", [gErr(400, "Invalid To header", "invalidArgument", "INVALID_ARGUMENT")], { status: "permanent" }, 1],
    ["400 mail service not enabled", [gErr(400, "Mail service not enabled", "failedPrecondition", "FAILED_PRECONDITION")], { status: "permanent", configuration: true }, 1],
    ["413 too large", [gErr(413, "Request entity too large")], { status: "permanent" }, 1],
    ["429 with Retry-After", [gErr(429, "Too many concurrent requests for user", "rateLimitExceeded", "RESOURCE_EXHAUSTED", { "retry-after": "7" })], { status: "transient", retryAfterMs: 7000 }, 1],
    ["429 with a retry time in the message", [gErr(429, "User-rate limit exceeded.  Retry after 2026-11-28T10:05:00.000Z", "rateLimitExceeded")], { status: "transient", retryAfterMs: 300_000 }, 1],
    ["403 user rate limit", [gErr(403, "User-rate limit exceeded", "userRateLimitExceeded")], { status: "transient" }, 1],
    ["500", [gErr(500, "Backend Error", "backendError")], { status: "transient" }, 1],
    ["503", [() => new Response("unavailable", { status: 503 })], { status: "transient" }, 1],
    ["401 once, then sent after one refresh", [gErr(401, "Invalid Credentials", "authError", "UNAUTHENTICATED")], { status: "sent" }, 2],
    ["401 twice: configuration error", [gErr(401, "Invalid Credentials", "authError"), gErr(401, "Invalid Credentials", "authError")], { status: "permanent", configuration: true }, 2],
    ["403 delegation denied twice: configuration error", [gErr(403, "Delegation denied", "forbidden", "PERMISSION_DENIED"), gErr(403, "Delegation denied", "forbidden")], { status: "permanent", configuration: true }, 2],
    [
      "network error",
      [
        () => {
          throw new TypeError("Network connection lost.");
        },
      ],
      { status: "transient" },
      1,
    ],
  ];
  for (const [name, answers, expected, tokenCalls] of cases) {
    it(name, async () => {
      const g = fakeGoogle(answers);
      const res = await createGmailProvider({ sender: "clinic@example.org" }, creds()).send(makeMessage(), makeCtx(g.fetchFn));
      expect(res).toMatchObject(expected);
      expect(g.tokens()).toHaveLength(tokenCalls);
    });
  }

  const tokenCases: [string, () => Response, Record<string, unknown>][] = [
    ["token invalid_grant", () => Response.json({ error: "invalid_grant", error_description: "Invalid JWT Signature." }, { status: 400 }), { status: "permanent", configuration: true }],
    ["token unauthorized_client", () => Response.json({ error: "unauthorized_client", error_description: "Client is unauthorized" }, { status: 401 }), { status: "permanent", configuration: true }],
    ["token 503", () => new Response("busy", { status: 503, headers: { "retry-after": "2" } }), { status: "transient", retryAfterMs: 2000 }],
    ["token 200 without access_token", () => Response.json({}), { status: "transient" }],
  ];
  for (const [name, tokenAnswer, expected] of tokenCases) {
    it(name, async () => {
      const g = fakeGoogle([], tokenAnswer);
      const res = await createGmailProvider({ sender: "clinic@example.org" }, creds()).send(makeMessage(), makeCtx(g.fetchFn));
      expect(res).toMatchObject(expected);
      expect(g.sends()).toHaveLength(0);
    });
  }

  it("a send that exceeds timeout_ms is transient", async () => {
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input) === TOKEN_URL) return Response.json({ access_token: "t", expires_in: 3600 });
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    }) as typeof fetch;
    const res = await createGmailProvider({ sender: "clinic@example.org", timeout_ms: 1000 }, creds()).send(makeMessage(), makeCtx(fetchFn));
    expect(res).toMatchObject({ status: "transient", reason: "Gmail API request timed out" });
  });

  it("an unusable private key is a configuration error", async () => {
    const g = fakeGoogle();
    const bad = { ...creds(), private_key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" };
    const res = await createGmailProvider({ sender: "clinic@example.org" }, bad).send(makeMessage(), makeCtx(g.fetchFn));
    expect(res).toMatchObject({ status: "permanent", configuration: true });
    expect(g.seen).toHaveLength(0);
  });
});

describe("gmail against the simulator", () => {
  const sims = inject("simulators");
  const sim = simulatorClient(sims.httpUrl);
  const provider = (sender: string, clientEmail: string, extra: Record<string, unknown> = {}) =>
    createGmailProvider({ sender, token_url: sims.gmail.tokenUrl, api_base_url: sims.gmail.apiBaseUrl, upload_base_url: sims.gmail.uploadBaseUrl, ...extra }, creds(clientEmail));
  const realCtx = () => ({ now: () => Date.now(), fetch: socketFetch });

  it("exchanges a verified JWT once and delivers, through 503 and a revoked token", async () => {
    const sender = `${uniq("clinic")}@example.org`;
    const sa = `${uniq("sa")}@project.iam.gserviceaccount.com`;
    await sim.registerServiceAccount(sa, publicPem);
    const p = provider(sender, sa);
    const msg = makeMessage();
    expect((await p.send(msg, realCtx())).status).toBe("sent");
    expect((await p.send(msg, realCtx())).status).toBe("sent");
    const [issued, ...more] = await sim.received("gmail-token", sender);
    expect(more).toHaveLength(0);
    expect(issued?.signatureVerified).toBe(true);
    expect(issued?.claims).toMatchObject({ iss: sa, sub: sender, scope: GMAIL_SEND_SCOPE, aud: sims.gmail.tokenUrl });
    const got = await sim.received("gmail", sender);
    expect(got).toHaveLength(2);
    expect(got[0]?.raw).toBe(new TextDecoder().decode(msg.raw));
    expect(got[0]?.parsed?.messageId).toBe(msg.messageIdHeader);

    await sim.addFault({ target: "gmail-send", scope: sender, status: 503, times: 1 });
    expect((await p.send(msg, realCtx())).status).toBe("transient");
    await sim.addFault({ target: "gmail-send", scope: sender, status: 401, times: 1 });
    expect((await p.send(msg, realCtx())).status).toBe("sent");
    expect(await sim.counts(sender)).toMatchObject({ "gmail-token": 2, "gmail-send": 5 });
  });

  it("uses the upload endpoint for large messages; a bad signature is a configuration error", async () => {
    const sender = `${uniq("clinic")}@example.org`;
    const sa = `${uniq("sa")}@project.iam.gserviceaccount.com`;
    const msg = makeMessage({ extraText: "y".repeat(5000) });
    expect((await provider(sender, sa, { max_simple_body_bytes: 2048 }).send(msg, realCtx())).status).toBe("sent");
    const [got] = await sim.received("gmail", sender);
    expect(got?.endpoint).toBe("upload");
    expect(got?.raw).toBe(new TextDecoder().decode(msg.raw));

    const other = await generateKeyPair("RS256", { extractable: true });
    const sa2 = `${uniq("sa")}@project.iam.gserviceaccount.com`;
    await sim.registerServiceAccount(sa2, await exportSPKI(other.publicKey));
    expect(await provider(`${uniq("clinic")}@example.org`, sa2).send(makeMessage(), realCtx())).toMatchObject({ status: "permanent", configuration: true });
  });

  it("a token endpoint that never answers is transient", async () => {
    const sender = `${uniq("clinic")}@example.org`;
    await sim.addFault({ target: "gmail-token", scope: sender, action: "timeout", times: 1 });
    const res = await provider(sender, `${uniq("sa")}@project.iam.gserviceaccount.com`, { timeout_ms: 1000 }).send(makeMessage(), realCtx());
    expect(res).toMatchObject({ status: "transient", reason: "Gmail token request timed out" });
  });
});
