// The OpenAPI document as a client generator reads it (issue 27; Redocly's recommended ruleset
// runs on it in `npm run lint:openapi`): every operation has a unique `resource.verb`
// operationId, its one tag is that resource and is described, and it names a security scheme the
// document defines — the bearer credential, or the signature a provider webhook is checked with.
import { describe, expect, it } from "vitest";
import { api, json } from "./helpers";

type Operation = { operationId?: string; tags?: string[]; security?: Record<string, string[]>[] };
type Doc = {
  info: { license?: { name: string } };
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; description?: string }> };
};

describe("the OpenAPI document", async () => {
  const doc = await json<Doc>(await api("/openapi.json"));
  const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, ...op })));

  it("names every operation resource.verb, once", () => {
    expect(ops.filter((o) => !/^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$/.test(o.operationId ?? "")).map((o) => o.name)).toEqual([]);
    const ids = ops.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const id = (name: string) => ops.find((o) => o.name === name)?.operationId;
    expect(id("POST /v1/messages")).toBe("messages.send");
    expect(id("GET /v1/messages/{id}")).toBe("messages.get");
    expect(id("GET /v1/messages")).toBe("messages.list");
    expect(id("POST /v1/campaigns")).toBe("campaigns.create");
  });

  it("tags each operation with its resource, and describes every tag", () => {
    const tags = new Map(doc.tags.map((t) => [t.name, t.description]));
    for (const o of ops) expect(o.tags, o.name).toEqual([o.operationId!.split(".")[0]]);
    for (const t of new Set(ops.map((o) => o.tags![0]!))) expect(tags.get(t), t).toBeTruthy();
  });

  it("gives every operation a defined security scheme; the Mailgun webhook names its signature", () => {
    const schemes = doc.components.securitySchemes;
    for (const o of ops) {
      expect(o.security?.length, o.name).toBe(1);
      for (const name of Object.keys(o.security![0]!)) expect(schemes[name], `${o.name}: ${name}`).toBeDefined();
    }
    expect(ops.find((o) => o.name === "POST /webhooks/mailgun/{providerId}")!.security).toEqual([{ mailgunSignature: [] }]);
    expect(schemes.mailgunSignature!.description).toMatch(/HMAC-SHA256/);
    expect(doc.info.license?.name).toMatch(/UNLICENSED/);
  });
});
