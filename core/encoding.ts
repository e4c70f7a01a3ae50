// Byte/text conversions shared by crypto, ids and MIME code. Workers have btoa/atob but no
// Buffer-free base64url helper; these are small enough not to warrant a dependency.

export const utf8 = new TextEncoder();
export const fromUtf8 = new TextDecoder();

export function toBase64(bytes: Uint8Array): string {
  // Native where the runtime has it (workerd's V8 does; Node 22 does not): the loop below was a
  // measurable share of accept's CPU (it encodes every stored body).
  const native = (bytes as Uint8Array & { toBase64?: () => string }).toBase64;
  if (typeof native === "function") return native.call(bytes);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Strict base64 decode: returns null on anything that is not valid base64. */
export function fromBase64(text: string): Uint8Array | null {
  const clean = text.replace(/[\r\n\t ]/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  try {
    // Native where the runtime has it (workerd): decoding every stored body at delivery.
    const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
    if (typeof native === "function") return native(clean);
    const bin = atob(clean);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export const toBase64Url = (bytes: Uint8Array): string =>
  toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const native = (digest as Uint8Array & { toHex?: () => string }).toHex;
  if (typeof native === "function") return native.call(digest);
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Length-independent-time comparison of two strings (for secrets and tokens). */
export function timingSafeEqualString(a: string, b: string): boolean {
  const ab = utf8.encode(a);
  const bb = utf8.encode(b);
  // Compare against itself when lengths differ so the time does not reveal where they differ.
  const same = ab.length === bb.length;
  const other = same ? bb : ab;
  // workerd provides crypto.subtle.timingSafeEqual (a Cloudflare extension).
  const eq = (crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean })
    .timingSafeEqual(ab, other);
  return same && eq;
}
