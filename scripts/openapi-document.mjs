// The OpenAPI document the Worker serves, rendered in-process for the scripts that read it
// (openapi-lint.mjs, client-generate.mjs, openapi-compat.mjs): workers/api/app.ts is bundled for
// Node (the two `cloudflare:` modules it reaches are stubbed; nothing of them runs for this
// route) and asked for /openapi.json, so no server, no Miniflare and no network. The bundle is
// per process and removed at once, so runs at once in one tree are safe.
import { build } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const root = path.resolve(import.meta.dirname, "..");

function d1StandIn() {
  const stub = new Proxy(function () {}, {
    get: (_t, key) => (key === "then" ? undefined : key === "getBookmark" ? () => null : stub),
    apply: () => stub,
  });
  return stub;
}

/** The parsed /openapi.json of the working tree's app. */
export async function renderDocument() {
  const outDir = path.join(root, ".wrangler", "openapi");
  mkdirSync(outDir, { recursive: true });
  const bundle = path.join(outDir, `app.${process.pid}.${Date.now()}.mjs`);
  await build({
    entryPoints: [path.join(root, "workers", "api", "app.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: bundle,
    packages: "external",
    logLevel: "error",
    plugins: [
      {
        name: "cloudflare-stubs",
        setup(b) {
          b.onResolve({ filter: /^cloudflare:/ }, (a) => ({ path: a.path, namespace: "cf-stub" }));
          b.onLoad({ filter: /.*/, namespace: "cf-stub" }, () => ({
            contents: "export const env = {}; export class DurableObject {}; export function connect() { throw new Error('no sockets here'); }",
            loader: "js",
          }));
        },
      },
    ],
  });
  let app;
  try {
    ({ app } = await import(pathToFileURL(bundle).href));
  } finally {
    rmSync(bundle, { force: true });
  }
  // Quiet the access log line this request writes.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  let res;
  try {
    // A D1 stand-in: the database middleware makes its (lazy) handle and session for every
    // request; this route never queries. Any method returns the stand-in again.
    res = await app.request("/openapi.json", {}, { DB: d1StandIn() });
  } finally {
    process.stdout.write = write;
  }
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}: ${await res.text()}`);
  return res.json();
}
