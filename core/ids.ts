import { toBase64Url } from "./encoding";

// Prefixed, URL-safe, 128-bit random ids ("msg_3J8f..."): the prefix tells a reader what an id
// names; the randomness makes ids unguessable across tenants.
export type IdPrefix =
  | "ws" | "usr" | "key" | "dom" | "prv" | "msg" | "mr" | "att" | "rcp" | "evt"
  | "lst" | "cmp" | "whe" | "wev" | "hc" | "aud" | "dlv" | "da" | "rl" | "url";

export const randomToken = (bytes: number): string => toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));

export const newId = (prefix: IdPrefix): string => `${prefix}_${randomToken(16)}`;
