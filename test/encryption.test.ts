import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { decryptText, encryptBytes, encryptText, decryptBytes, keyIdOf, loadKeyring } from "../core/crypto";
import { fromBase64 } from "../core/encoding";
import { api, createWorkspace, json, message } from "./helpers";

const SECRET = "Patient Jane Roe, MRN 4471-22, biopsy result benign";
const contains = (haystack: Uint8Array, needle: string) => new TextDecoder("latin1").decode(haystack).includes(needle);

describe("encryption at rest", async () => {
  const ws = await createWorkspace();

  it("the D1 row does not contain the plaintext body, subject or attachment name", async () => {
    const sent = await json(
      await api("/v1/messages", {
        method: "POST",
        key: ws.key,
        json: message(ws, { subject: `Re: ${SECRET}`, text: SECRET, attachments: [{ filename: "jane-roe-mrn-4471.pdf", content: btoa("%PDF") }] }),
      }),
    );
    const row = await env.DB.prepare("select * from messages where id = ?").bind(sent.id).first<Record<string, unknown>>();
    expect(row).toBeTruthy();
    const rowText = JSON.stringify(row);
    expect(rowText).not.toContain("Jane Roe");
    expect(rowText).not.toContain("4471-22");
    expect(row!.body_enc).toBeTypeOf("string");
    expect(contains(fromBase64(row!.body_enc as string)!, "Jane")).toBe(false);
    const att = await env.DB.prepare("select * from attachments where message_id = ?").bind(sent.id).first<Record<string, unknown>>();
    expect(JSON.stringify(att)).not.toContain("jane-roe");
  });

  it("large bodies go to R2, encrypted, and the row points at them", async () => {
    const big = `${SECRET}\n`.repeat(200); // > INLINE_BODY_MAX_BYTES in tests
    const sent = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { text: big }) }));
    const row = await env.DB.prepare("select body_enc, body_r2_key from messages where id = ?").bind(sent.id).first<Record<string, string | null>>();
    expect(row!.body_enc).toBeNull();
    expect(row!.body_r2_key).toBe(`bodies/${ws.id}/${sent.id}`);
    const obj = await env.BODIES.get(row!.body_r2_key!);
    const bytes = new Uint8Array(await obj!.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(big.length);
    expect(contains(bytes, "Jane Roe")).toBe(false);
  });

  it("provider credentials are stored encrypted", async () => {
    const created = await json(
      await api("/v1/providers", {
        method: "POST",
        key: ws.key,
        json: { name: "mg", type: "mailgun", config: { domain: "mg.example.org" }, credentials: { api_key: "key-very-secret-999" } },
      }),
    );
    const row = await env.DB.prepare("select * from providers where id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain("key-very-secret-999");
    expect(row!.credentials_enc).toBeTypeOf("string");
  });
});

describe("AES-256-GCM envelope", () => {
  const k1 = btoa(String.fromCharCode(...new Uint8Array(32).fill(1)));
  const k2 = btoa(String.fromCharCode(...new Uint8Array(32).fill(2)));

  it("round-trips and binds the ciphertext to its associated data", async () => {
    const ring = await loadKeyring(JSON.stringify({ k1 }), "k1");
    const sealed = await encryptText(ring, SECRET, "ws_a/msg_1/body");
    expect(await decryptText(ring, sealed, "ws_a/msg_1/body")).toBe(SECRET);
    await expect(decryptText(ring, sealed, "ws_b/msg_1/body")).rejects.toThrow(/authentication/);
  });

  it("detects tampering", async () => {
    const ring = await loadKeyring(JSON.stringify({ k1 }), "k1");
    const sealed = await encryptBytes(ring, new TextEncoder().encode(SECRET), "x");
    sealed[sealed.length - 1]! ^= 1;
    await expect(decryptBytes(ring, sealed, "x")).rejects.toThrow(/authentication/);
  });

  it("uses a fresh IV each time", async () => {
    const ring = await loadKeyring(JSON.stringify({ k1 }), "k1");
    expect(await encryptText(ring, SECRET, "x")).not.toBe(await encryptText(ring, SECRET, "x"));
  });

  it("rotation: new data under the new key, old data still readable, retired keys fail clearly", async () => {
    const old = await loadKeyring(JSON.stringify({ k1 }), "k1");
    const sealedOld = await encryptBytes(old, new TextEncoder().encode("old"), "x");
    const rotated = await loadKeyring(JSON.stringify({ k1, k2 }), "k2");
    const sealedNew = await encryptBytes(rotated, new TextEncoder().encode("new"), "x");
    expect(keyIdOf(sealedOld)).toBe("k1");
    expect(keyIdOf(sealedNew)).toBe("k2");
    expect(new TextDecoder().decode(await decryptBytes(rotated, sealedOld, "x"))).toBe("old");
    const retired = await loadKeyring(JSON.stringify({ k2 }), "k2");
    await expect(decryptBytes(retired, sealedOld, "x")).rejects.toThrow(/no longer configured/);
  });

  it("refuses malformed key material", async () => {
    await expect(loadKeyring(JSON.stringify({ k1: "c2hvcnQ=" }), "k1")).rejects.toThrow(/32 bytes/);
    await expect(loadKeyring(JSON.stringify({ k1 }), "k9")).rejects.toThrow(/no key "k9"/);
    expect(() => loadKeyring(undefined, "k1")).toThrow(/DATA_KEYS/);
  });
});
