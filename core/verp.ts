// VERP (variable envelope return path): outgoing mail through a provider that returns bounces
// to the envelope sender carries `bounces+<message recipient id>@<bounce domain>` as MAIL FROM,
// so a bounce names the exact delivery it is about, whatever the remote server wrote in it.
// One SMTP transaction per recipient uses the message recipient id (`mr_…`); a transaction
// for several recipients uses the message id (`msg_…`) and the report's recipients pick
// which ones. Both ids are 128-bit random, so the address cannot be guessed to forge a
// bounce for someone else's delivery.

const TAG = "bounces";
const ID_RE = /^(mr|msg)_[A-Za-z0-9_-]{16,64}$/;

/** The envelope sender for one message recipient (`mr_…`) or one whole message (`msg_…`). */
export function encodeVerp(id: string, bounceDomain: string): string {
  if (!ID_RE.test(id)) throw new Error("not a message or message recipient id");
  return `${TAG}+${id}@${bounceDomain.toLowerCase()}`;
}

export type VerpMatch = { kind: "recipient"; messageRecipientId: string } | { kind: "message"; messageId: string } | { kind: "plain" } | null;

/**
 * Reads an address at the bounce domain: `bounces+<id>` names a delivery, plain `bounces`
 * (or any other local part there) is the shared bounce mailbox, another domain is null.
 */
export function decodeVerp(address: string, bounceDomain: string): VerpMatch {
  const at = address.lastIndexOf("@");
  if (at <= 0) return null;
  const local = address.slice(0, at).replace(/^"|"$/g, "");
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, "");
  if (domain !== bounceDomain.toLowerCase()) return null;
  const plus = local.indexOf("+");
  if (plus > 0 && local.slice(0, plus).toLowerCase() === TAG) {
    const id = local.slice(plus + 1);
    if (ID_RE.test(id)) return id.startsWith("mr_") ? { kind: "recipient", messageRecipientId: id } : { kind: "message", messageId: id };
  }
  return { kind: "plain" };
}
