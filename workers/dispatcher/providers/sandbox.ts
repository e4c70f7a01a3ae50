// The embedded default provider: "delivers" by storing the final rendered message so it can be
// read back (GET /v1/messages/:id/rendered). It can also simulate failures, so the retry and
// give-up paths can be exercised locally with no credentials.
import { z } from "@hono/zod-openapi";
import { healthy, unhealthy } from "./probe";
import type { Provider, SendResult } from "./types";

export const sandboxConfigSchema = z
  .object({
    simulate: z.enum(["deliver", "transient", "permanent"]).default("deliver"),
    /** These recipients fail permanently (a "bad mailbox"); the rest are delivered. */
    fail_recipients: z.array(z.string().max(254)).max(100).default([]),
  })
  .strict();

export const sandboxCredentialsSchema = z.object({}).strict();

export type SandboxConfig = z.infer<typeof sandboxConfigSchema>;

export function createSandboxProvider(
  config: SandboxConfig,
  store: (messageId: string, raw: Uint8Array) => Promise<void>,
): Provider {
  const failing = new Set(config.fail_recipients.map((r) => r.toLowerCase()));
  return {
    type: "sandbox",
    async send(message, ctx): Promise<SendResult> {
      // Its store cannot be cancelled; the caller's deadline (core/deadline.ts) still ends the call.
      if (ctx.signal?.aborted) return { status: "transient", reason: "sandbox: the call's deadline passed" };
      if (config.simulate === "transient") return { status: "transient", reason: "sandbox: simulated temporary failure" };
      if (config.simulate === "permanent") return { status: "permanent", reason: "sandbox: simulated permanent failure" };
      const bad = message.recipients.filter((r) => failing.has(r.toLowerCase()));
      if (bad.length === message.recipients.length && bad.length > 0) {
        return { status: "permanent", reason: "sandbox: mailbox unavailable", recipients: bad.map((email) => ({ email, reason: "550 5.1.1 mailbox unavailable" })) };
      }
      await store(message.id, message.raw);
      if (bad.length > 0) {
        return { status: "permanent", reason: "sandbox: some mailboxes unavailable", providerMessageId: `sandbox-${message.deliveryId}`, recipients: bad.map((email) => ({ email, reason: "550 5.1.1 mailbox unavailable" })) };
      }
      return { status: "sent", providerMessageId: `sandbox-${message.deliveryId}` };
    },
    async probe() {
      // A sandbox set to fail every send is reported unhealthy, so the health filter can be tried locally.
      return config.simulate === "deliver" ? healthy(0) : unhealthy(0, `sandbox: simulating ${config.simulate} failures`);
    },
  };
}
