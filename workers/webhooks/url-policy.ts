// Which URLs may receive webhooks: the relay's one outbound URL policy (core/url-policy.ts;
// its header says what it guarantees and what it does not). In production: https only, to a
// public host; loopback and private hosts only with WEBHOOK_ALLOW_PRIVATE_URLS (development and
// tests). Checked when an endpoint is saved and again before every delivery (deliver.ts), which
// fetches with `redirect: "manual"` and counts a 3xx as a failed attempt: a redirect is never
// followed to a host this check did not see.
import { checkOutboundUrl, type UrlCheck } from "../../core/url-policy";

export type { UrlCheck };

export function checkEndpointUrl(input: string, allowPrivate: boolean): UrlCheck {
  return checkOutboundUrl(input, { allowPrivate });
}
