// API keys: 256 random bits behind a recognisable prefix (so leaked keys are easy to scan for).
// Only the SHA-256 is stored; the key itself is shown once, at creation.
import { sha256Hex } from "./encoding";
import { randomToken } from "./ids";

export const API_KEY_PREFIX = "rk_";

export async function generateApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  return { key, prefix: key.slice(0, 10), hash: await sha256Hex(key) };
}
