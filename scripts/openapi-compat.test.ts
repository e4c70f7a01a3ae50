// scripts/openapi-compat.mjs (issue 27), run as `npm test` runs it, on deliberately broken copies
// of openapi/released.json: each kind of breaking change fails it (exit 1, the change named),
// compatible changes pass, and a major version bump lets a breaking change through. Plain Node
// (vitest project `core`): the script is a process of its own, as in `npm test`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const releasedFile = path.join(root, "openapi", "released.json");
const released = JSON.parse(readFileSync(releasedFile, "utf8"));
const dir = mkdtempSync(path.join(tmpdir(), "openapi-compat-"));

type Doc = any;
function run(change: (doc: Doc) => void) {
  const doc = structuredClone(released);
  change(doc);
  const file = path.join(dir, `${crypto.randomUUID()}.json`);
  writeFileSync(file, JSON.stringify(doc));
  const r = spawnSync(process.execPath, [path.join(root, "scripts", "openapi-compat.mjs"), "--base", releasedFile, "--current", file], { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}
const schemas = (d: Doc) => d.components.schemas;

describe("the OpenAPI compatibility check", () => {
  it("passes the released document against itself", () => {
    const r = run(() => {});
    expect(r.out).toMatch(/compatible with openapi\/released.json/);
    expect(r.status).toBe(0);
  });

  const BREAKING: [string, (d: Doc) => void, RegExp][] = [
    ["a removed operation", (d) => delete d.paths["/v1/messages/{id}"].get, /GET \/v1\/messages\/\{id\} \(messages\.get\): operation removed/],
    [
      "a removed answer field",
      (d) => {
        delete schemas(d).Accepted.properties.message_id;
        schemas(d).Accepted.required = schemas(d).Accepted.required.filter((f: string) => f !== "message_id");
      },
      /POST \/v1\/messages → 202\.message_id: removed/,
    ],
    ["an answer field no longer always present", (d) => (schemas(d).Accepted.required = ["id", "status", "recipients"]), /202\.message_id: no longer always present/],
    ["a narrowed request type", (d) => (schemas(d).UpdateWebhookEndpoint.properties.description.type = ["string"]), /PATCH \/v1\/webhooks\/\{id\} body\.description: no longer accepts null/],
    ["a widened answer type", (d) => (schemas(d).Accepted.properties.message_id.type = ["string", "null"]), /202\.message_id: may now be null/],
    ["a new required request field", (d) => schemas(d).SendMessage.required.push("text"), /POST \/v1\/messages body\.text: new required field/],
    [
      "a removed enum value",
      (d) => {
        const items = schemas(d).CreateWebhookEndpoint.properties.events.items;
        items.enum = items.enum.filter((e: string) => e !== "message.opened");
      },
      /POST \/v1\/webhooks body\.events\[\]: enum value "message\.opened" removed/,
    ],
    [
      "a new required query parameter",
      (d) => d.paths["/v1/messages"].get.parameters.push({ in: "query", name: "workspace", required: true, schema: { type: "string" } }),
      /GET \/v1\/messages: new required parameter query:workspace/,
    ],
    ["a removed webhook event type", (d) => delete d.webhooks["message.opened"], /webhook message\.opened: event type removed/],
    [
      "a field removed from an event body",
      (d) => {
        delete schemas(d).MessageSentEvent.properties.data.properties.recipient;
        schemas(d).MessageSentEvent.properties.data.required = ["message_id", "status"];
      },
      /webhook message\.sent body\.data\.recipient: removed/,
    ],
  ];
  for (const [what, change, named] of BREAKING) {
    it(`fails on ${what}`, () => {
      const r = run(change);
      expect(r.status, r.out).toBe(1);
      expect(r.out).toMatch(named);
    });
  }

  it("fails on a breaking change with only a minor version bump, and lets it through with a major one", () => {
    const broken = (d: Doc) => delete d.paths["/v1/messages/{id}"].get;
    expect(run((d) => (broken(d), (d.info.version = "1.1.0"))).status).toBe(1);
    const major = run((d) => (broken(d), (d.info.version = "2.0.0")));
    expect(major.status, major.out).toBe(0);
    expect(major.out).toMatch(/accepted by the major version 2\.0\.0/);
  });

  it("passes compatible changes: a new operation, an optional request field, a new answer field, a new answer enum value", () => {
    const r = run((d) => {
      d.paths["/v1/new-thing"] = { get: { operationId: "things.list", responses: { 200: { description: "ok" } } } };
      schemas(d).SendMessage.properties.priority = { type: "string" };
      schemas(d).Accepted.properties.queued_at = { type: "string" };
      schemas(d).MessageSummary.properties.status.enum.push("archived");
    });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/compatible changes only/);
  });
});
