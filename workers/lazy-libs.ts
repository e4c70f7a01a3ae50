// Large libraries, loaded on first use. scripts/vendor.mjs (npm postinstall) prebuilds each into
// workers/vendor/, and wrangler uploads them as modules of their own (wrangler.toml:
// find_additional_modules), so index.js stays small and an isolate evaluates only what its mail
// needs. This file sits beside workers/vendor/: wrangler leaves a dynamic import unbundled only when its
// specifier matches the rule's glob (./vendor/*.js). Each loader caches its promise: one import per isolate.
const once = <T>(load: () => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= load().catch((e) => ((p = undefined), Promise.reject(e))));
};

/** postal-mime: MIME parsing (raw submissions, inbound mail, bounce reports). */
export const loadPostalMime = once(async () => (await import("./vendor/postal-mime.js")).default);

/** jose: JWT verification (bearer tokens) and signing (Gmail service accounts). */
export const loadJose = once(() => import("./vendor/jose.js"));

/** openai: the LLM personalization client. */
export const loadOpenAI = once(() => import("./vendor/openai.js"));

/**
 * re2js: the linear-time engine for tenant-supplied patterns (DLP rules, LLM phi_patterns),
 * passed to core/tenant-regex.ts as a value. Awaited only where a pattern is compiled: saving
 * those settings, accept for a workspace with DLP rules, personalization with phi_patterns.
 */
export const loadRe2 = once(async () => (await import("./vendor/re2js.js")).RE2JS);

/**
 * The bounce reader (core/bounce/: report classification, the reason patterns, the verdict),
 * for bounce mail and provider failure events only: most isolates never read a bounce.
 */
export const loadBounceReader = once(() => import("./vendor/bounce-reader.js"));

/** The MySQL store and its driver (mysql2), for STORE = "mysql" only. */
export const loadMysqlStore = once(() => import("./vendor/mysql-store.js"));

/** The OpenAPI document's `webhooks` (the event schemas, rendered to JSON), for GET /openapi.json. */
export const loadWebhookEventsDoc = once(async () => (await import("./vendor/webhook-events.js")).default);
