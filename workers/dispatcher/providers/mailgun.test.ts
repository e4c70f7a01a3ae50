import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { simulatorClient, socketFetch } from "../../../test/simulators/workerd-client";
import { createMailgunProvider, mailgunConfigSchema, mailgunCredentialsSchema } from "./mailgun";
import { makeCtx, makeMessage, uniq } from "./test-fixtures";

const KEY = "key-0123456789abcdef";

interface Captured {
  url: string;
  method: string;
  headers: Headers;
  form: FormData;
}

/** Intercepts global fetch (makeCtx() passes it to the provider) and records each request, read inside the mock. */
function interceptFetch(respond: (n: number) => Response | Promise<Response>) {
  const calls: Captured[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input as RequestInfo, init);
    calls.push({ url: req.url, method: req.method, headers: req.headers, form: await req.formData() });
    return respond(calls.length);
  });
  return { calls, spy };
}

const ok = (id = "<20261128.abc@mg.example.org>") => new Response(JSON.stringify({ id, message: "Queued. Thank you." }), { status: 200, headers: { "content-type": "application/json" } });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("mailgun config", () => {
  it("defaults to the US region and validates the domain and key", () => {
    expect(mailgunConfigSchema.parse({ domain: "mg.example.org" })).toEqual({ domain: "mg.example.org", region: "us", timeout_ms: 30000 });
    expect(mailgunConfigSchema.safeParse({ domain: "not a domain" }).success).toBe(false);
    expect(mailgunConfigSchema.safeParse({ domain: "mg.example.org", region: "ap" }).success).toBe(false);
    expect(mailgunConfigSchema.safeParse({ domain: "mg.example.org", base_url: "ftp://x" }).success).toBe(false);
    expect(mailgunCredentialsSchema.safeParse({ api_key: "" }).success).toBe(false);
    expect(mailgunCredentialsSchema.safeParse({ api_key: KEY }).success).toBe(true);
  });
  it("takes snake_case fields only: an unknown (e.g. camelCase) field is an error, not silently dropped", () => {
    expect(mailgunConfigSchema.parse({ domain: "mg.example.org", region: "eu", base_url: "http://127.0.0.1:8080", timeout_ms: 5000 })).toEqual({ domain: "mg.example.org", region: "eu", base_url: "http://127.0.0.1:8080", timeout_ms: 5000 });
    expect(mailgunConfigSchema.safeParse({ domain: "mg.example.org", baseUrl: "http://127.0.0.1:8080" }).error?.issues[0]?.message).toMatch(/baseUrl/);
    expect(mailgunCredentialsSchema.safeParse({ apiKey: KEY }).success).toBe(false);
  });
});

describe("mailgun wire format", () => {
  it("posts the rendered MIME to messages.mime with recipients, tags and variables", async () => {
    const { calls } = interceptFetch(() => ok());
    const msg = makeMessage({ to: ["a@example.com"], cc: ["b@example.com"] });
    msg.tags = ["t1", "t2", "t3", "t4"];
    const res = await createMailgunProvider({ domain: "mg.example.org" }, { api_key: KEY }).send(msg, makeCtx());
    expect(res).toEqual({ status: "sent", providerMessageId: "20261128.abc@mg.example.org" });
    expect(calls).toHaveLength(1);
    const c = calls[0]!;
    expect(c.url).toBe("https://api.mailgun.net/v3/mg.example.org/messages.mime");
    expect(c.method).toBe("POST");
    expect(c.headers.get("authorization")).toBe(`Basic ${btoa(`api:${KEY}`)}`);
    expect(c.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(c.form.getAll("to")).toEqual(["a@example.com", "b@example.com"]);
    expect(c.form.getAll("o:tag")).toEqual(["t1", "t2", "t3"]); // Mailgun's limit is 3
    expect(c.form.get("v:patientRef")).toBe("p-42");
    expect(c.form.get("v:clinic")).toBe("north");
    expect(c.form.get("v:relay-message-id")).toBe("msg_01");
    expect(c.form.get("v:relay-delivery-id")).toBe("dlv_01");
    const file = c.form.get("message");
    expect(file).toBeInstanceOf(File);
    expect((file as File).name).toBe("MimeMessage");
    expect(new Uint8Array(await (file as File).arrayBuffer())).toEqual(msg.raw);
    expect([...c.form.keys()].sort()).toEqual(
      ["message", "o:tag", "o:tag", "o:tag", "to", "to", "v:clinic", "v:patientRef", "v:relay-delivery-id", "v:relay-message-id"].sort(),
    );
  });

  it("uses the EU endpoint or a configured base URL", async () => {
    const { calls } = interceptFetch(() => ok());
    await createMailgunProvider({ domain: "mg.example.org", region: "eu" }, { api_key: KEY }).send(makeMessage(), makeCtx());
    await createMailgunProvider({ domain: "mg.example.org", region: "eu", base_url: "http://127.0.0.1:9/" }, { api_key: KEY }).send(makeMessage(), makeCtx());
    expect(calls.map((c) => c.url)).toEqual(["https://api.eu.mailgun.net/v3/mg.example.org/messages.mime", "http://127.0.0.1:9/v3/mg.example.org/messages.mime"]);
  });
});

describe("mailgun error classification", () => {
  const cases: [string, () => Response | Promise<Response>, Record<string, unknown>][] = [
    ["400 bad recipient", () => Response.json({ message: "to parameter is not a valid address" }, { status: 400 }), { status: "permanent" }],
    ["401 bad key", () => new Response("Forbidden", { status: 401 }), { status: "permanent", configuration: true }],
    ["403 sandbox/forbidden", () => Response.json({ message: "Domain is not allowed to send" }, { status: 403 }), { status: "permanent", configuration: true }],
    ["404 unknown domain", () => Response.json({ message: "Domain not found" }, { status: 404 }), { status: "permanent", configuration: true }],
    ["413 too large", () => Response.json({ message: "too large" }, { status: 413 }), { status: "permanent" }],
    ["429 rate limited, Retry-After kept", () => Response.json({ message: "slow down" }, { status: 429, headers: { "retry-after": "30" } }), { status: "transient", reason: "Mailgun 429: slow down", retryAfterMs: 30_000 }],
    ["500", () => Response.json({ message: "oops" }, { status: 500 }), { status: "transient" }],
    ["503", () => new Response("unavailable", { status: 503 }), { status: "transient" }],
    ["503 whose body repeats the status text", () => new Response("Service Unavailable", { status: 503, statusText: "Service Unavailable" }), { status: "transient", reason: "Mailgun 503: Service Unavailable" }],
    [
      "network error",
      () => {
        throw new TypeError("Network connection lost.");
      },
      { status: "transient" },
    ],
    ["200 without id", () => Response.json({ message: "Queued" }), { status: "transient" }],
  ];
  for (const [name, respond, expected] of cases) {
    it(name, async () => {
      vi.spyOn(globalThis, "fetch").mockImplementation(async () => respond());
      const res = await createMailgunProvider({ domain: "mg.example.org" }, { api_key: KEY }).send(makeMessage(), makeCtx());
      expect(res).toMatchObject(expected);
      if (expected.status === "permanent" && !expected.configuration) expect(res).not.toHaveProperty("configuration");
    });
  }

  it("a request that exceeds timeout_ms is transient", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(
      (input, init) =>
        new Promise((_, reject) => {
          const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
          signal?.addEventListener("abort", () => reject(signal.reason));
        }),
    );
    const res = await createMailgunProvider({ domain: "mg.example.org", timeout_ms: 1000 }, { api_key: KEY }).send(makeMessage(), makeCtx());
    expect(res.status).toBe("transient");
  });

  it("no recipients is permanent without a request", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    const res = await createMailgunProvider({ domain: "mg.example.org" }, { api_key: KEY }).send(makeMessage({ recipients: [] }), makeCtx());
    expect(res.status).toBe("permanent");
    expect(spy).not.toHaveBeenCalled();
  });
});

describe("mailgun against the simulator", () => {
  const sims = inject("simulators");
  const sim = simulatorClient(sims.httpUrl);
  const provider = (domain: string, apiKey = sims.mailgun.apiKey) => createMailgunProvider({ domain, base_url: sims.mailgun.baseUrl }, { api_key: apiKey });

  it("delivers the MIME intact, then reports 503 as transient and recovers", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(socketFetch);
    const domain = `${uniq("mg")}.example.org`;
    const msg = makeMessage();
    expect(await provider(domain).send(msg, makeCtx())).toEqual({ status: "sent", providerMessageId: msg.messageIdHeader.slice(1, -1) });
    const [got] = await sim.received("mailgun", domain);
    expect(got?.mime).toBe(new TextDecoder().decode(msg.raw));
    expect(got?.to).toEqual(msg.recipients);
    expect(got?.tags).toEqual(["appointments", "reminders"]);
    expect(got?.variables).toMatchObject({ patientRef: "p-42", clinic: "north", "relay-message-id": "msg_01" });
    expect(got?.parsed?.attachments).toEqual([{ filename: "letter.pdf", mimeType: "application/pdf", size: 15 }]);

    await sim.addFault({ target: "mailgun", scope: domain, status: 503, times: 1 });
    expect((await provider(domain).send(msg, makeCtx())).status).toBe("transient");
    expect((await provider(domain).send(msg, makeCtx())).status).toBe("sent");
    expect((await sim.counts(domain)).mailgun).toBe(3);
  });

  it("a wrong API key is a configuration error; a dropped connection is transient", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(socketFetch);
    const domain = `${uniq("mg")}.example.org`;
    expect(await provider(domain, "key-wrong-000000").send(makeMessage(), makeCtx())).toMatchObject({ status: "permanent", configuration: true });
    await sim.addFault({ target: "mailgun", scope: domain, action: "drop", times: 1 });
    expect((await provider(domain).send(makeMessage(), makeCtx())).status).toBe("transient");
  });
});
