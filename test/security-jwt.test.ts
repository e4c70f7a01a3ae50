// Bearer JWTs from a workspace's identity provider: the acceptance table from issue 10.
import { env } from "cloudflare:workers";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, createWorkspace, json, message } from "./helpers";

const ISSUER = "https://idp.clinic.test/";
const AUDIENCE = "relay-api";

async function keyPair(kid: string, alg = "RS256") {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { publicKey, privateKey, jwk, kid, alg };
}

function sign(
  key: { privateKey: CryptoKey | Uint8Array; kid: string; alg: string },
  claims: Record<string, unknown> = {},
  opts: { iss?: string; aud?: string; exp?: number; nbf?: number; sub?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({ scope: "send read", ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setSubject(opts.sub ?? "doctor-1")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now + 300);
  if (opts.nbf !== undefined) jwt = jwt.setNotBefore(opts.nbf);
  return jwt.sign(key.privateKey);
}

const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

describe("JWT bearer authentication", async () => {
  const ws = await createWorkspace();
  const k1 = await keyPair("k1");
  const other = await keyPair("k1"); // same kid, different key: a forger's key
  const unknown = await keyPair("k9");
  const config = { issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [k1.jwk] }, algorithms: ["RS256"], allowed_scopes: ["send", "read"] };
  const put = await api("/v1/workspace/jwt", { method: "PUT", key: ws.key, json: config });
  expect(put.status).toBe(200);

  const me = (token: string) => api("/v1/me", { key: token });
  const now = () => Math.floor(Date.now() / 1000);

  afterEach(() => vi.restoreAllMocks());

  it("a valid token authenticates as a user of the workspace with the token's scopes", async () => {
    const res = await me(await sign(k1));
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ workspace_id: ws.id, kind: "jwt", key_id: null, scopes: ["send", "read"] });
    // and it can do what its scopes allow
    const sent = await api("/v1/messages", { method: "POST", key: await sign(k1), json: message(ws) });
    expect(sent.status).toBe(202);
    const row = await env.DB.prepare("SELECT user_id FROM messages WHERE id = ?").bind((await json(sent)).id).first<{ user_id: string }>();
    const user = await env.DB.prepare("SELECT id, workspace_id FROM users WHERE external_id = 'doctor-1'").first<{ id: string; workspace_id: string }>();
    expect(user).toMatchObject({ workspace_id: ws.id });
    expect(row!.user_id).toBe(user!.id);
  });

  it("the same subject maps to the same user every time", async () => {
    await me(await sign(k1, {}, { sub: "nurse-7" }));
    await me(await sign(k1, {}, { sub: "nurse-7" }));
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE external_id = 'nurse-7'").first<{ n: number }>();
    expect(n!.n).toBe(1);
  });

  it("scopes are capped by the issuer's allowed_scopes and enforced per route", async () => {
    const token = await sign(k1, { scope: "send read admin" });
    expect((await json(await me(token))).scopes).toEqual(["send", "read"]);
    expect((await api("/v1/providers", { key: token })).status).toBe(403);
    const readOnly = await sign(k1, { scope: ["read"] });
    expect((await api("/v1/messages", { method: "POST", key: readOnly, json: message(ws) })).status).toBe(403);
  });

  const refused: [string, () => Promise<string>][] = [
    ["expired", () => sign(k1, {}, { exp: now() - 120 })],
    ["not yet valid", () => sign(k1, {}, { nbf: now() + 120 })],
    ["wrong audience", () => sign(k1, {}, { aud: "someone-else" })],
    ["wrong issuer", () => sign(k1, {}, { iss: "https://evil.test/" })],
    ["unknown kid", () => sign(unknown)],
    ["signed by another key under a known kid", () => sign(other)],
    ["alg none", async () => `${b64url({ alg: "none", kid: "k1" })}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: "doctor-1", exp: now() + 300, scope: "send read" })}.`],
    [
      "HS256 signed with the RS public key as the secret (algorithm confusion)",
      async () => sign({ privateKey: new TextEncoder().encode(await exportSPKI(k1.publicKey)), kid: "k1", alg: "HS256" }),
    ],
    [
      "HS256 signed with the JWK's modulus as the secret",
      async () => sign({ privateKey: new TextEncoder().encode(JSON.stringify(k1.jwk)), kid: "k1", alg: "HS256" }),
    ],
    ["no exp", async () => new SignJWT({ scope: "send" }).setProtectedHeader({ alg: "RS256", kid: "k1" }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject("x").sign(k1.privateKey)],
    ["tampered payload", async () => {
      const [h, , s] = (await sign(k1)).split(".");
      return `${h}.${b64url({ iss: ISSUER, aud: AUDIENCE, sub: "doctor-1", exp: now() + 300, scope: "send read admin" })}.${s}`;
    }],
  ];
  for (const [name, make] of refused) {
    it(`refuses a token: ${name}`, async () => {
      const res = await me(await make());
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    });
  }

  it("accepts expiry and not-before within the clock tolerance (30 s)", async () => {
    expect((await me(await sign(k1, {}, { exp: now() - 10 }))).status).toBe(200);
    expect((await me(await sign(k1, {}, { nbf: now() + 10 }))).status).toBe(200);
  });

  it("an algorithm the workspace did not list is refused even with a valid signature", async () => {
    const es = await keyPair("e1", "ES256");
    const ws2 = await createWorkspace({ provider: null });
    await api("/v1/workspace/jwt", { method: "PUT", key: ws2.key, json: { ...config, issuer: "https://idp-es.test/", jwks: { keys: [es.jwk] } } });
    expect((await me(await sign(es, {}, { iss: "https://idp-es.test/" }))).status).toBe(401);
    await api("/v1/workspace/jwt", { method: "PUT", key: ws2.key, json: { ...config, issuer: "https://idp-es.test/", jwks: { keys: [es.jwk] }, algorithms: ["ES256"] } });
    expect((await me(await sign(es, {}, { iss: "https://idp-es.test/" }))).status).toBe(200);
  });

  it("without auto_provision, an unknown subject is refused", async () => {
    const ws3 = await createWorkspace({ provider: null });
    const k = await keyPair("p1");
    await api("/v1/workspace/jwt", { method: "PUT", key: ws3.key, json: { ...config, issuer: "https://idp-closed.test/", jwks: { keys: [k.jwk] }, auto_provision: false } });
    expect((await me(await sign(k, {}, { iss: "https://idp-closed.test/" }))).status).toBe(401);
  });

  it("after DELETE /v1/workspace/jwt the issuer is no longer trusted", async () => {
    const ws4 = await createWorkspace({ provider: null });
    const k = await keyPair("d1");
    await api("/v1/workspace/jwt", { method: "PUT", key: ws4.key, json: { ...config, issuer: "https://idp-gone.test/", jwks: { keys: [k.jwk] } } });
    const token = await sign(k, {}, { iss: "https://idp-gone.test/" });
    expect((await me(token)).status).toBe(200);
    expect((await api("/v1/workspace/jwt", { method: "DELETE", key: ws4.key })).status).toBe(200);
    expect((await me(token)).status).toBe(401);
  });

  it("keys from a JWKS URL are fetched once and cached", async () => {
    const ws5 = await createWorkspace({ provider: null });
    const k = await keyPair("r1");
    const jwksUrl = "https://idp-remote.test/.well-known/jwks.json";
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url === jwksUrl) return Response.json({ keys: [k.jwk] });
      return realFetch(input, init);
    });
    await api("/v1/workspace/jwt", { method: "PUT", key: ws5.key, json: { ...config, issuer: "https://idp-remote.test/", jwks: undefined, jwks_url: jwksUrl } });
    for (let i = 0; i < 3; i++) expect((await me(await sign(k, {}, { iss: "https://idp-remote.test/" }))).status).toBe(200);
    const calls = spy.mock.calls.filter(([input]) => (input instanceof Request ? input.url : String(input)) === jwksUrl);
    expect(calls.length).toBe(1);
    // An unknown kid is still refused (the set is refetched at most once per cooldown).
    expect((await me(await sign(unknown, {}, { iss: "https://idp-remote.test/" }))).status).toBe(401);
  });

  it("an issuer and audience trusted by one workspace cannot be claimed by another", async () => {
    const intruder = await createWorkspace({ provider: null });
    const res = await api("/v1/workspace/jwt", { method: "PUT", key: intruder.key, json: config });
    expect(res.status).toBe(409);
    expect((await me(await sign(k1))).status).toBe(200);
    expect((await json(await me(await sign(k1)))).workspace_id).toBe(ws.id);
    // A distinct audience at the same identity provider is fine.
    expect((await api("/v1/workspace/jwt", { method: "PUT", key: intruder.key, json: { ...config, audience: "intruder-app" } })).status).toBe(200);
    // and re-saving one's own settings is not a conflict
    expect((await api("/v1/workspace/jwt", { method: "PUT", key: ws.key, json: config })).status).toBe(200);
  });

  it("refuses unsafe issuer settings", async () => {
    const priv = { ...(await exportJWK(k1.privateKey)), kid: "x" };
    for (const bad of [
      { ...config, algorithms: ["HS256"] },
      { ...config, algorithms: ["none"] },
      { ...config, jwks: { keys: [priv] } },
      { ...config, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0", kid: "s" }] } },
      { ...config, jwks: undefined, jwks_url: "http://idp.test/jwks" },
      { ...config, jwks_url: "https://idp.test/jwks" },
      { ...config, jwks: undefined },
      { ...config, workspace_id: "ws_other" },
    ]) {
      const res = await api("/v1/workspace/jwt", { method: "PUT", key: ws.key, json: bad });
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(400);
    }
  });
});
