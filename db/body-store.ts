// Encrypted message content: inline in the D1 row when small, in R2 when large (D1 rows cap at
// 2 MB and big rows slow every query that touches the table). The associated data ties each
// ciphertext to its workspace, message and purpose.
import { decryptBytes, encryptBytes, type Keyring } from "../core/crypto";
import { fromBase64, toBase64 } from "../core/encoding";
import { RelayError } from "../core/errors";

export interface StoredBody {
  bodyEnc: string | null;
  bodyR2Key: string | null;
}

const aad = (workspaceId: string, messageId: string, purpose: string) => `${workspaceId}/${messageId}/${purpose}`;
const bodyKey = (workspaceId: string, messageId: string) => `bodies/${workspaceId}/${messageId}`;
const renderedKey = (workspaceId: string, messageId: string) => `rendered/${workspaceId}/${messageId}`;

export async function storeBody(
  r2: R2Bucket,
  ring: Keyring,
  workspaceId: string,
  messageId: string,
  plaintext: Uint8Array,
  inlineMaxBytes: number,
): Promise<StoredBody> {
  const sealed = await encryptBytes(ring, plaintext, aad(workspaceId, messageId, "body"));
  if (sealed.length <= inlineMaxBytes) return { bodyEnc: toBase64(sealed), bodyR2Key: null };
  const key = bodyKey(workspaceId, messageId);
  await r2.put(key, sealed);
  return { bodyEnc: null, bodyR2Key: key };
}

export async function loadBody(r2: R2Bucket, ring: Keyring, workspaceId: string, messageId: string, stored: StoredBody): Promise<Uint8Array> {
  let sealed: Uint8Array | null = null;
  if (stored.bodyEnc) sealed = fromBase64(stored.bodyEnc);
  else if (stored.bodyR2Key) {
    const obj = await r2.get(stored.bodyR2Key);
    sealed = obj ? new Uint8Array(await obj.arrayBuffer()) : null;
  }
  if (!sealed) throw new RelayError("internal_error", `content of ${messageId} is missing`);
  return decryptBytes(ring, sealed, aad(workspaceId, messageId, "body"));
}

/** Removes an R2 body written for a message whose D1 batch did not commit. */
export async function discardBody(r2: R2Bucket, stored: StoredBody): Promise<void> {
  if (stored.bodyR2Key) await r2.delete(stored.bodyR2Key);
}

/** The sandbox provider's "delivered" copy: the exact bytes a real provider would have sent. */
export async function storeRendered(r2: R2Bucket, ring: Keyring, workspaceId: string, messageId: string, raw: Uint8Array): Promise<void> {
  await r2.put(renderedKey(workspaceId, messageId), await encryptBytes(ring, raw, aad(workspaceId, messageId, "rendered")));
}

export async function loadRendered(r2: R2Bucket, ring: Keyring, workspaceId: string, messageId: string): Promise<Uint8Array | null> {
  const obj = await r2.get(renderedKey(workspaceId, messageId));
  if (!obj) return null;
  return decryptBytes(ring, new Uint8Array(await obj.arrayBuffer()), aad(workspaceId, messageId, "rendered"));
}
