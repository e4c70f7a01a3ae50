// Per-workspace settings stored in workspaces.configuration. Unknown or invalid settings fall
// back to defaults at read time (the write path validates strictly), so one bad value can
// never stop a workspace's mail.
import { z } from "@hono/zod-openapi";
import { DEFAULT_RETRY_POLICY, retryPolicySchema } from "./retry-policy";

export const workspaceConfigSchema = z.object({
  retry_policy: retryPolicySchema.optional(),
});

export interface WorkspaceConfig {
  retry_policy: z.infer<typeof retryPolicySchema>;
}

export function parseWorkspaceConfig(value: unknown): WorkspaceConfig {
  const parsed = workspaceConfigSchema.safeParse(value ?? {});
  return { retry_policy: (parsed.success && parsed.data.retry_policy) || DEFAULT_RETRY_POLICY };
}
