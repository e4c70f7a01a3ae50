// The store's providers group (db/store/store.ts): providers, their quotas and the sender domains
// a workspace sends from. Every operation but `verifiedClaimElsewhere` is scoped: it takes the
// workspace first and every statement behind it carries `workspace_id = ?`, so another
// workspace's id is "not found". Outcomes are values: a duplicate registration or a verification
// another workspace's claim refuses comes back as a result, never as a driver error.
// The records are the D1 schema's rows (db/providers.ts, db/sender-domains.ts).
import type { NewProvider, ProviderPatch, ProviderRow } from "../providers";
import type { QuotaRow } from "../provider-quotas";
import type { SenderDomainRow } from "../sender-domains";

export type { NewProvider, ProviderPatch, ProviderRow, QuotaRow, SenderDomainRow };

/** A provider quota change: absent leaves a limit as it is, null removes it (the type's default applies). */
export interface ProviderQuotaInput {
  daily?: number | null;
  per_second?: number | null;
}

/** A sender domain to register: `verifiedAt` is set only by the platform bootstrap. */
export interface NewSenderDomain {
  id: string;
  domain: string;
  verificationToken: string;
  verifiedAt?: number | null;
}

export type CreateSenderDomainResult =
  | { status: "created"; domain: SenderDomainRow }
  /** The workspace has registered this domain already, or (when created verified) another workspace has verified it. */
  | { status: "duplicate" };

export interface ProviderStore {
  /** Adds a provider (the row's workspace is the first argument's); the row as stored. */
  create(workspaceId: string, row: Omit<NewProvider, "workspaceId">): Promise<ProviderRow>;
  /** The workspace's providers, by priority then creation. */
  list(workspaceId: string): Promise<ProviderRow[]>;
  get(workspaceId: string, id: string): Promise<ProviderRow | undefined>;
  /** Changes the given fields and stamps updated_at; undefined when the workspace has no such provider. */
  update(workspaceId: string, id: string, patch: ProviderPatch, at: number): Promise<ProviderRow | undefined>;
  /** False when the workspace has no such provider. */
  delete(workspaceId: string, id: string): Promise<boolean>;

  /** Every provider quota row of the workspace (rate_limits with scope "provider"). */
  quotas(workspaceId: string): Promise<QuotaRow[]>;
  /** Replaces the provider's daily and/or per-second rows as given, all or nothing. */
  setQuota(workspaceId: string, providerId: string, quota: ProviderQuotaInput): Promise<void>;

  /** Registers a domain; a duplicate is a value. */
  createDomain(workspaceId: string, d: NewSenderDomain): Promise<CreateSenderDomainResult>;
  /** The workspace's sender domains, by domain. */
  domains(workspaceId: string): Promise<SenderDomainRow[]>;
  domain(workspaceId: string, id: string): Promise<SenderDomainRow | undefined>;
  /**
   * Marks the claim verified unless another workspace has verified the domain or a parent of it
   * (checked and written atomically: a concurrent verification of the same name space cannot
   * slip between them). Undefined: not verified (no such unverified claim, or the name space is
   * another workspace's).
   */
  verifyDomain(workspaceId: string, id: string, domain: string, at: number): Promise<SenderDomainRow | undefined>;
  /** False when the workspace has no such domain. */
  deleteDomain(workspaceId: string, id: string): Promise<boolean>;
  /**
   * CROSS-TENANT by design: another workspace's verified claim on this domain or a parent of it
   * (the owner of its name space), if any. It reads other workspaces' rows only to refuse a
   * registration, and answers with the claimed name alone.
   */
  verifiedClaimElsewhere(workspaceId: string, domain: string): Promise<{ domain: string } | undefined>;
}
