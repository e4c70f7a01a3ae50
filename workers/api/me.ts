// /v1/me: who the credential is. The SMTP bridge uses it to check AUTH passwords (API keys).
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses } from "./schemas";
import { validationHook } from "./validation";

export const meApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

meApp.openapi(
  route({
    method: "get",
    path: "/me",
    operationId: "me.get",
    summary: "The calling API key's workspace and scopes",
    auth: "any_credential",
    responses: {
      200: {
        description: "The credential",
        content: { "application/json": { schema: z.object({ workspace_id: z.string(), key_id: z.string().nullable(), kind: z.string(), scopes: z.array(z.string()) }) } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const p = c.var.principal;
    return c.json({ workspace_id: c.var.workspaceId, key_id: p.keyId, kind: p.kind, scopes: p.scopes }, 200);
  },
);
