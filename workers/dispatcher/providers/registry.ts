// Provider types: each declares the zod schemas for its settings and secrets, and how to build
// it. The API validates with the same schemas, so a stored provider is always buildable.
import type { z } from "@hono/zod-openapi";
import { RelayError } from "../../../core/errors";
import { createGmailProvider, gmailConfigSchema, gmailCredentialsSchema } from "./gmail";
import { createMailgunProvider, mailgunConfigSchema, mailgunCredentialsSchema } from "./mailgun";
import { createSandboxProvider, sandboxConfigSchema, sandboxCredentialsSchema } from "./sandbox";
import { createSmtpProvider, smtpConfigSchema, smtpCredentialsSchema } from "./smtp";
import type { Provider } from "./types";

export interface ProviderDeps {
  /** Where the sandbox keeps what it "delivered". */
  storeRendered: (messageId: string, raw: Uint8Array) => Promise<void>;
  /** The provider row the client belongs to (workspace/provider id): what it shares across sends is its own. */
  owner: string;
}

interface ProviderType {
  config: z.ZodType;
  credentials: z.ZodType;
  build(config: unknown, credentials: unknown, deps: ProviderDeps): Provider;
}

export const PROVIDER_TYPES = {
  sandbox: {
    config: sandboxConfigSchema,
    credentials: sandboxCredentialsSchema,
    build: (config, _credentials, deps) => createSandboxProvider(sandboxConfigSchema.parse(config), deps.storeRendered),
  },
  mailgun: {
    config: mailgunConfigSchema,
    credentials: mailgunCredentialsSchema,
    build: (config, credentials) => createMailgunProvider(mailgunConfigSchema.parse(config), mailgunCredentialsSchema.parse(credentials)),
  },
  gmail: {
    config: gmailConfigSchema,
    credentials: gmailCredentialsSchema,
    build: (config, credentials) => createGmailProvider(gmailConfigSchema.parse(config), gmailCredentialsSchema.parse(credentials)),
  },
  smtp: {
    config: smtpConfigSchema,
    credentials: smtpCredentialsSchema,
    build: (config, credentials, deps) => createSmtpProvider(smtpConfigSchema.parse(config), smtpCredentialsSchema.parse(credentials), deps.owner),
  },
} satisfies Record<string, ProviderType>;

export const ALL_PROVIDER_TYPES = ["sandbox", "mailgun", "gmail", "smtp"] as const;
export type ProviderTypeName = (typeof ALL_PROVIDER_TYPES)[number];

export function providerType(type: string): ProviderType {
  const t = (PROVIDER_TYPES as Record<string, ProviderType>)[type];
  if (!t) throw new RelayError("not_implemented", `provider type '${type}' is not available in this build yet`);
  return t;
}
