// GET /docs, the API reference (issue 27): a static page (assets/docs.html) with a strict CSP from
// assets/_headers (no inline script, nothing but this origin), referring only to same-origin
// files, each of which is served: the renderer (Swagger UI under /docs/, copied from
// swagger-ui-dist by scripts/vendor.mjs; none of it in index.js), its starter, and /openapi.json
// it renders. In production the asset router answers these paths before the Worker runs; the
// test pool's SELF calls the Worker directly, so the static files are fetched through the same
// assets' binding (env.ASSETS, which applies html_handling and _headers as the router does) and
// /openapi.json through the Worker.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api } from "./helpers";

const asset = (path: string) => env.ASSETS.fetch(`https://relay.test${path}`, { redirect: "manual" });
const fetchRef = (ref: string) => (ref.startsWith("/docs") ? asset(ref) : api(ref));

describe("the API reference page", () => {
  it("is served at /docs with a strict CSP and only same-origin references, each of which answers", async () => {
    const res = await asset("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("script-src")).toEqual(["'self'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("base-uri")).toEqual(["'none'"]);
    // Nothing but this origin anywhere; inline only for styles (Swagger UI sets some).
    for (const [name, values] of directives) for (const v of values) expect(`${name} ${v}`).toMatch(/ ('self'|'none'|data:)$|^style-src 'unsafe-inline'$/);

    const html = await res.text();
    // No inline script: every <script> has a src and no body, and there is no event handler attribute.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\ssrc="/);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js", "/openapi.json"]));
    for (const ref of refs) {
      expect(ref, "same-origin, path-absolute").toMatch(/^\/(?!\/)/);
      const got = await fetchRef(ref);
      expect(got.status, ref).toBe(200);
      const body = await got.text();
      expect(body.length, ref).toBeGreaterThan(0);
      if (ref.endsWith(".js")) {
        expect(got.headers.get("content-type"), ref).toMatch(/javascript/);
        expect(body, ref).not.toMatch(/sourceMappingURL/);
      }
    }
    const init = await (await asset("/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });

  it("/docs/ and /docs.html lead to /docs; the Worker itself has no /docs route", async () => {
    for (const path of ["/docs/", "/docs.html"]) {
      const res = await asset(path);
      expect(res.status, path).toBe(307);
      expect(res.headers.get("location"), path).toBe("/docs");
    }
    expect((await api("/docs")).status).toBe(404);
  });
});
