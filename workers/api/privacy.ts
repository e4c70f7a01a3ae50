// POST /v1/privacy/erasure: erase one recipient's personal data in this workspace (a patient's
// request). The address is replaced by its log token (workers/log.ts) so delivery statistics and
// the audit trail stay consistent without holding the address; message content sent to it is
// deleted. Admin scope; audited like every configuration change.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { parseMailbox } from "../../core/address";
import { RelayError } from "../../core/errors";
import { piiToken } from "../log";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses } from "./schemas";
import { validationHook } from "./validation";

export const privacyApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const resultSchema = z
  .object({
    erased_as: z.string().openapi({ description: "The token that replaces the address in delivery records" }),
    messages: z.number().openapi({ description: "Messages whose records and content were erased" }),
    pending: z.number().openapi({ description: "Messages still being delivered, left alone; erase again once they finish" }),
    profiles: z.number(),
  })
  .openapi("ErasureResult");

privacyApp.openapi(
  route({
    method: "post",
    path: "/privacy/erasure",
    operationId: "privacy.erase",
    summary: "Erase a recipient's personal data (address in delivery records, content sent to them, profile)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: z.object({ email: z.string().max(320) }).strict().openapi("ErasureRequest"), example: { email: "patient@example.net" } } }, required: true } },
    responses: { 200: { description: "Erased", content: { "application/json": { schema: resultSchema } } }, ...errorResponses },
  }),
  async (c) => {
    const m = parseMailbox(c.req.valid("json").email);
    if (!m || m.name) throw new RelayError("invalid_address", "email: not a valid email address");
    const ws = c.var.workspaceId;
    const token = `erased:${piiToken(m.address)}`;
    const result = await c.var.store.recipients.eraseRecipient(ws, m.address, token, Date.now(), async (keys) => {
      for (let i = 0; i < keys.length; i += 1000) await c.env.BODIES.delete(keys.slice(i, i + 1000));
    });
    return c.json({ erased_as: token, messages: result.messages, pending: result.pending, profiles: result.profiles }, 200);
  },
);
