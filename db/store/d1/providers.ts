// The providers group (db/store/providers.ts) on D1: db/providers.ts, db/provider-quotas.ts and
// db/sender-domains.ts, whose unique violations become values here.
import { newId } from "../../../core/ids";
import type { Db } from "../../client";
import { isUniqueViolation } from "../../errors";
import { listProviderQuotas, setProviderQuota } from "../../provider-quotas";
import { deleteProvider, getProvider, insertProvider, listProviders, updateProvider } from "../../providers";
import { deleteSenderDomain, getSenderDomain, insertSenderDomain, listSenderDomains, markSenderDomainVerified, verifiedClaimElsewhere } from "../../sender-domains";
import type { ProviderStore } from "../providers";

export function d1Provider(db: Db): ProviderStore {
  return {
    create: (ws, row) => insertProvider(db, { ...row, workspaceId: ws }),
    list: (ws) => listProviders(db, ws),
    get: (ws, id) => getProvider(db, ws, id),
    update: (ws, id, patch, at) => updateProvider(db, ws, id, patch, at),
    delete: (ws, id) => deleteProvider(db, ws, id),

    quotas: (ws) => listProviderQuotas(db, ws),
    setQuota: (ws, providerId, quota) => setProviderQuota(db, ws, providerId, quota, () => newId("rl")),

    async createDomain(ws, d) {
      try {
        return { status: "created", domain: await insertSenderDomain(db, { ...d, verifiedAt: d.verifiedAt ?? null, workspaceId: ws }) };
      } catch (e) {
        // (workspace, domain) is unique; so is a verified domain (a bootstrap racing a verify).
        if (isUniqueViolation(e)) return { status: "duplicate" };
        throw e;
      }
    },
    domains: (ws) => listSenderDomains(db, ws),
    domain: (ws, id) => getSenderDomain(db, ws, id),
    async verifyDomain(ws, id, domain, at) {
      try {
        return await markSenderDomainVerified(db, ws, id, domain, at);
      } catch (e) {
        // The partial unique index: another workspace verified the same domain first.
        if (isUniqueViolation(e)) return undefined;
        throw e;
      }
    },
    deleteDomain: (ws, id) => deleteSenderDomain(db, ws, id),
    verifiedClaimElsewhere: (ws, domain) => verifiedClaimElsewhere(db, ws, domain),
  };
}
