// /v1/domains: the domains a workspace may send as. A domain is verified by a DNS TXT record
// (`_relay-verification.<domain>` = `relay-verification=<token>`), looked up over DNS-over-HTTPS.
// A domain belongs to at most one workspace, so no tenant can send as another's domain.
import { readConfig } from "../../core/config";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { RelayError, notFound } from "../../core/errors";
import { newId, randomToken } from "../../core/ids";
import type { ProviderStore, SenderDomainRow } from "../../db/store/providers";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses, errorSchema, idParam, iso, notFoundResponse } from "./schemas";
import { validationHook } from "./validation";

export const domainInput = z
  .object({
    domain: z
      .string()
      .max(253)
      .transform((d) => d.toLowerCase().replace(/\.$/, ""))
      .refine((d) => /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/.test(d), "must be a domain name such as clinic.example"),
  })
  .strict()
  .openapi("CreateDomain");

const domainSchema = z
  .object({
    id: z.string(),
    domain: z.string(),
    verified: z.boolean(),
    verified_at: z.string().nullable(),
    verification: z.object({ type: z.literal("TXT"), name: z.string(), value: z.string() }),
    created_at: z.string(),
  })
  .openapi("SenderDomain");

export const domainView = (d: SenderDomainRow) => ({
  id: d.id,
  domain: d.domain,
  verified: d.verifiedAt !== null,
  verified_at: iso(d.verifiedAt),
  verification: { type: "TXT" as const, name: `_relay-verification.${d.domain}`, value: `relay-verification=${d.verificationToken}` },
  created_at: iso(d.createdAt)!,
});

// One message whichever rule refused, naming only the domain asked for: whether a parent or the
// domain itself is another's is not this workspace's business.
const takenElsewhere = (domain: string) => new RelayError("conflict", `domain ${domain} is within a domain another workspace has verified`);

/** Shared with the platform bootstrap route, which may create a domain already verified. */
export async function createDomain(providers: ProviderStore, workspaceId: string, domain: string, verifiedAt: number | null = null): Promise<SenderDomainRow> {
  // Registering inside another's verified name space could never verify; say so now.
  if (await providers.verifiedClaimElsewhere(workspaceId, domain)) throw takenElsewhere(domain);
  const created = await providers.createDomain(workspaceId, { id: newId("dom"), domain, verificationToken: randomToken(18), verifiedAt });
  // (workspace, domain) is unique; so is a verified domain (a bootstrap racing a verify).
  if (created.status === "duplicate") {
    throw new RelayError("conflict", verifiedAt === null ? `domain ${domain} is already registered in this workspace` : `domain ${domain} is already registered in this workspace or verified by another`);
  }
  return created.domain;
}

async function txtRecords(resolverUrl: string, name: string): Promise<string[]> {
  const url = new URL(resolverUrl);
  url.searchParams.set("name", name);
  url.searchParams.set("type", "TXT");
  const res = await fetch(url, { headers: { accept: "application/dns-json" } });
  if (!res.ok) throw new RelayError("unavailable", `DNS lookup failed with HTTP ${res.status}`);
  const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
  return (body.Answer ?? []).filter((a) => a.type === 16).map((a) => a.data.replace(/^"|"$/g, "").replace(/"\s*"/g, ""));
}

export const domainsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

domainsApp.openapi(
  route({
    method: "post",
    path: "/domains",
    operationId: "domains.create",
    summary: "Register a sender domain (returns the TXT record that verifies it)",
    description:
      "Any workspace may register any domain; the claim is exclusive only once verified. An unverified registration never blocks another workspace. Refused (409) when the domain or a parent of it is verified by another workspace: a verified domain reserves every name under it.",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: domainInput, example: { domain: "clinic.example" } } }, required: true } },
    responses: {
      201: { description: "Registered, not yet verified", content: { "application/json": { schema: domainSchema } } },
      409: { description: "Already registered in this workspace, or within another workspace's verified domain", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
    },
  }),
  async (c) => c.json(domainView(await createDomain(c.var.store.providers, c.var.workspaceId, c.req.valid("json").domain)), 201),
);

domainsApp.openapi(
  route({
    method: "get",
    path: "/domains",
    operationId: "domains.list",
    summary: "List sender domains",
    auth: "read",
    responses: { 200: { description: "Domains", content: { "application/json": { schema: z.object({ data: z.array(domainSchema) }) } } }, ...errorResponses },
  }),
  async (c) => c.json({ data: (await c.var.store.providers.domains(c.var.workspaceId)).map(domainView) }, 200),
);

domainsApp.openapi(
  route({
    method: "post",
    path: "/domains/{id}/verify",
    operationId: "domains.verify",
    summary: "Check the domain's TXT record and mark it verified",
    auth: "admin",
    request: { params: idParam },
    responses: {
      200: { description: "Verified", content: { "application/json": { schema: domainSchema } } },
      409: { description: "Another workspace has verified this domain or a parent of it", content: { "application/json": { schema: errorSchema } } },
      422: { description: "The TXT record was not found", content: { "application/json": { schema: errorSchema } } },
      ...errorResponses,
      ...notFoundResponse,
    },
  }),
  async (c) => {
    const ws = c.var.workspaceId;
    const row = await c.var.store.providers.domain(ws, c.req.valid("param").id);
    if (!row) throw notFound("domain");
    if (row.verifiedAt === null) {
      const view = domainView(row);
      const records = await txtRecords(readConfig(c.env).dnsResolverUrl, view.verification.name);
      if (!records.includes(view.verification.value)) {
        throw new RelayError("unprocessable", `TXT record ${view.verification.name} = "${view.verification.value}" not found`);
      }
      const verified = await c.var.store.providers.verifyDomain(ws, row.id, row.domain, Date.now());
      // The TXT record proves control of the name now, but the first verification owns it.
      if (!verified) throw takenElsewhere(row.domain);
      return c.json(domainView(verified), 200);
    }
    return c.json(domainView(row), 200);
  },
);

domainsApp.openapi(
  route({
    method: "delete",
    path: "/domains/{id}",
    operationId: "domains.delete",
    summary: "Remove a sender domain",
    auth: "admin",
    request: { params: idParam },
    responses: { 204: { description: "Removed" }, ...errorResponses, ...notFoundResponse },
  }),
  async (c) => {
    if (!(await c.var.store.providers.deleteDomain(c.var.workspaceId, c.req.valid("param").id))) throw notFound("domain");
    return c.body(null, 204);
  },
);
