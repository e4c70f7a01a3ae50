// Encryption at rest: AES-256-GCM through WebCrypto. Keys come from a secret holding a JSON
// map { keyId: base64(32 bytes) }; new data is written under the current key id, and the key id
// is stored inside every ciphertext so old data stays readable after a rotation.
// Associated data binds a ciphertext to its row (e.g. "msg_x/body"), so a ciphertext copied
// into another row or another tenant fails to decrypt instead of leaking.
import { RelayError } from "./errors";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding";

const VERSION = 1;
const IV_BYTES = 12;

export interface Keyring {
  currentKeyId: string;
  keys: Map<string, CryptoKey>;
}

const keyringCache = new Map<string, Promise<Keyring>>();

/** Parses and imports the keyring once per isolate (per distinct secret value). */
export function loadKeyring(secretJson: string | undefined, currentKeyId: string): Promise<Keyring> {
  if (!secretJson) {
    throw new RelayError("internal_error", "DATA_KEYS secret is not configured");
  }
  const cacheKey = `${currentKeyId}\u0000${secretJson}`;
  let ring = keyringCache.get(cacheKey);
  if (!ring) {
    ring = importKeyring(secretJson, currentKeyId);
    ring.catch(() => keyringCache.delete(cacheKey));
    keyringCache.set(cacheKey, ring);
  }
  return ring;
}

async function importKeyring(secretJson: string, currentKeyId: string): Promise<Keyring> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretJson);
  } catch {
    throw new RelayError("internal_error", "DATA_KEYS is not valid JSON");
  }
  if (!parsed || typeof parsed !== "object") throw new RelayError("internal_error", "DATA_KEYS must be a JSON object");
  const keys = new Map<string, CryptoKey>();
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    const raw = typeof value === "string" ? fromBase64(value) : null;
    if (!raw || raw.length !== 32 || !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new RelayError("internal_error", `DATA_KEYS entry "${id}" must be base64 of 32 bytes`);
    }
    keys.set(id, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  if (!keys.has(currentKeyId)) throw new RelayError("internal_error", `DATA_KEYS has no key "${currentKeyId}"`);
  return { currentKeyId, keys };
}

/** Binary envelope: [version][kid length][kid][iv][ciphertext+tag]. */
export async function encryptBytes(ring: Keyring, plaintext: Uint8Array, aad: string): Promise<Uint8Array> {
  const kid = utf8.encode(ring.currentKeyId);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = ring.keys.get(ring.currentKeyId)!;
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(aad) }, key, plaintext),
  );
  const out = new Uint8Array(2 + kid.length + IV_BYTES + ct.length);
  out[0] = VERSION;
  out[1] = kid.length;
  out.set(kid, 2);
  out.set(iv, 2 + kid.length);
  out.set(ct, 2 + kid.length + IV_BYTES);
  return out;
}

export async function decryptBytes(ring: Keyring, envelope: Uint8Array, aad: string): Promise<Uint8Array> {
  if (envelope.length < 2 || envelope[0] !== VERSION) throw new RelayError("internal_error", "unknown ciphertext version");
  const kidLen = envelope[1]!;
  const kid = fromUtf8.decode(envelope.subarray(2, 2 + kidLen));
  const key = ring.keys.get(kid);
  if (!key) throw new RelayError("internal_error", `data key "${kid}" is no longer configured`);
  const iv = envelope.subarray(2 + kidLen, 2 + kidLen + IV_BYTES);
  const ct = envelope.subarray(2 + kidLen + IV_BYTES);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8.encode(aad) }, key, ct),
    );
  } catch {
    throw new RelayError("internal_error", "ciphertext failed authentication");
  }
}

/** Text form for D1 columns: base64 of the binary envelope. */
export async function encryptText(ring: Keyring, plaintext: string, aad: string): Promise<string> {
  return toBase64(await encryptBytes(ring, utf8.encode(plaintext), aad));
}

export async function decryptText(ring: Keyring, envelope: string, aad: string): Promise<string> {
  const bytes = fromBase64(envelope);
  if (!bytes) throw new RelayError("internal_error", "ciphertext is not base64");
  return fromUtf8.decode(await decryptBytes(ring, bytes, aad));
}

/** The key id a stored ciphertext was written under (for rotation reports). */
export function keyIdOf(envelope: Uint8Array): string {
  return fromUtf8.decode(envelope.subarray(2, 2 + (envelope[1] ?? 0)));
}

/** Encryption context of a provider's credentials: a ciphertext moved to another provider or workspace does not decrypt. */
export const credentialsAad = (workspaceId: string, providerId: string) => `${workspaceId}/${providerId}/credentials`;
