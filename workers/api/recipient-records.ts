// The recipient record as the API reads and writes it: input and output schemas, the view
// (names and custom fields decrypted), and the validated, encrypted upsert shared by
// POST /v1/recipients and the import. Names and custom fields are encrypted at rest; the AAD
// binds each value to its workspace, recipient and column.
import { z } from "@hono/zod-openapi";
import { parseMailbox } from "../../core/address";
import { readConfig } from "../../core/config";
import { encryptText, loadKeyring, type Keyring } from "../../core/crypto";
import { newId } from "../../core/ids";
import { openRecipient, recipientAad, type RecipientProfileWrite, type RecipientRow, type RecipientStore } from "../../db/store/recipients";
import { pageSchema, timeIdCursor } from "./pagination";
import { iso } from "./schemas";

export const STATUSES = ["active", "bounced", "complained", "unsubscribed"] as const;
export const SUPPRESSED = ["bounced", "complained", "unsubscribed"] as const;

/** Field names double as template variables, so they are identifiers. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const name = z.string().max(200).regex(/^[^\r\n\0]*$/, "must not contain line breaks");
const fields = z
  .record(z.string().regex(FIELD_NAME, "field names are letters, digits and _"), z.string().max(2000))
  .refine((r) => Object.keys(r).length <= 100, "at most 100 fields");

export const recipientInput = z
  .object({
    email: z.string().min(3).max(320),
    first_name: name.nullable().optional(),
    last_name: name.nullable().optional(),
    fields: fields.optional().openapi({ description: "Custom fields; replaces the stored set when given" }),
    metadata: z.record(z.string(), z.string().max(500)).optional(),
  })
  .strict()
  .openapi("RecipientInput");

export const updateInput = recipientInput.omit({ email: true }).strict().openapi("RecipientUpdate");

export const recipientSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    status: z.enum(STATUSES),
    bounce_count: z.number(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    fields: z.record(z.string(), z.string()),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Recipient");

export const rowResultSchema = z
  .object({
    index: z.number(),
    email: z.string().nullable(),
    status: z.enum(["created", "updated", "error"]),
    id: z.string().nullable(),
    error: z.string().nullable(),
  })
  .openapi("RecipientImportRow");

export const ring = (env: Env) => loadKeyring(env.DATA_KEYS, readConfig(env).dataKeyId);

export async function view(keys: Keyring, r: RecipientRow) {
  const d = await openRecipient(keys, r);
  return {
    id: r.id,
    email: r.email,
    status: r.status,
    bounce_count: r.bounceCount,
    first_name: d.firstName,
    last_name: d.lastName,
    fields: d.fields,
    metadata: r.metadata,
    created_at: iso(r.createdAt)!,
    updated_at: iso(r.updatedAt)!,
  };
}

type Input = z.infer<typeof updateInput>;

export async function seal(keys: Keyring, ws: string, id: string, input: Input): Promise<Omit<RecipientProfileWrite, "id" | "email">> {
  const out: Omit<RecipientProfileWrite, "id" | "email"> = {};
  if (input.first_name !== undefined) out.firstNameEnc = input.first_name ? await encryptText(keys, input.first_name, recipientAad(ws, id, "first_name")) : null;
  if (input.last_name !== undefined) out.lastNameEnc = input.last_name ? await encryptText(keys, input.last_name, recipientAad(ws, id, "last_name")) : null;
  if (input.fields !== undefined) out.fieldsEnc = Object.keys(input.fields).length ? await encryptText(keys, JSON.stringify(input.fields), recipientAad(ws, id, "fields")) : null;
  if (input.metadata !== undefined) out.metadata = input.metadata;
  return out;
}

type RowResult = z.infer<typeof rowResultSchema>;

/** Validates, encrypts and upserts rows; one result per input row, in order. */
export async function upsertMany(env: Env, store: RecipientStore, ws: string, rows: unknown[]): Promise<RowResult[]> {
  const keys = await ring(env);
  const results: RowResult[] = [];
  const valid: { index: number; email: string; input: Input }[] = [];
  const seen = new Map<string, number>();
  rows.forEach((raw, index) => {
    const parsed = recipientInput.safeParse(raw);
    const email = raw && typeof raw === "object" && typeof (raw as { email?: unknown }).email === "string" ? (raw as { email: string }).email : null;
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      results[index] = { index, email, status: "error", id: null, error: `${issue.path.join(".") || "row"}: ${issue.message}` };
      return;
    }
    const mb = parseMailbox(parsed.data.email);
    if (!mb || mb.name) {
      results[index] = { index, email, status: "error", id: null, error: "email: not a valid address" };
      return;
    }
    const key = mb.address.toLowerCase();
    if (seen.has(key)) {
      results[index] = { index, email: mb.address, status: "error", id: null, error: `email: duplicate of row ${seen.get(key)}` };
      return;
    }
    seen.set(key, index);
    const { email: _e, ...rest } = parsed.data;
    valid.push({ index, email: mb.address, input: rest });
  });
  const existing = new Map((await store.recipientsByEmails(ws, valid.map((v) => v.email))).map((r) => [r.email.toLowerCase(), r]));
  const writes: RecipientProfileWrite[] = [];
  for (const v of valid) {
    const prior = existing.get(v.email.toLowerCase());
    const id = prior?.id ?? newId("rcp");
    writes.push({ id, email: prior?.email ?? v.email, ...(await seal(keys, ws, id, v.input)) });
    results[v.index] = { index: v.index, email: prior?.email ?? v.email, status: prior ? "updated" : "created", id, error: null };
  }
  await store.upsertRecipients(ws, writes, Date.now());
  return results;
}

export const recipientCursor = timeIdCursor("createdAt", "rcp");
export const recipientPage = pageSchema(recipientSchema);
