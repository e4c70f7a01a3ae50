// Delivery through the real queue to the Gmail simulator: service-account JWT exchanged for a
// token (signature checked against the registered public key), then users.messages.send.
import { exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, waitForStatus } from "./helpers";
import { accept, addProvider, FAST_RETRY, gmailProvider, setRetryPolicy, sim, uniq } from "./simulators/delivery-fixtures";

let privatePem = "";
let publicPem = "";

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privatePem = await exportPKCS8(pair.privateKey);
  publicPem = await exportSPKI(pair.publicKey);
});

describe("Gmail API through the queue", { timeout: 30_000 }, () => {
  it("exchanges a token and sends; the simulator decodes the same Subject and Message-ID", async () => {
    const clientEmail = `${uniq("relay")}@project.iam.gserviceaccount.com`;
    await sim().registerServiceAccount(clientEmail, publicPem);
    // The service-account key as Google's JSON key file has it (escaped newlines, extra fields).
    const credentials = { type: "service_account", client_email: clientEmail, private_key: privatePem.replace(/\n/g, "\\n"), private_key_id: "kid-e2e" };
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY);
    const sender = `clinic@${ws.domain}`;
    const providerId = await addProvider(ws, gmailProvider(sender, credentials));

    const acc = await accept(ws, { from: `Clinic <${sender}>`, subject: "Ihr Termin am Dienstag ✓" });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 10_000);
    expect(done.status, JSON.stringify(done.attempts)).toBe("sent");
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ outcome: "sent", provider_id: providerId });

    const [token, ...moreTokens] = await sim().received("gmail-token", sender);
    expect(moreTokens).toHaveLength(0);
    expect(token).toMatchObject({ clientEmail, signatureVerified: true, header: { alg: "RS256", kid: "kid-e2e" } });
    expect(token?.claims).toMatchObject({ iss: clientEmail, sub: sender, scope: "https://www.googleapis.com/auth/gmail.send" });

    const [got, ...more] = await sim().received("gmail", sender);
    expect(more).toHaveLength(0);
    expect(got?.endpoint).toBe("send");
    expect(got?.parsed?.subject).toBe("Ihr Termin am Dienstag ✓");
    expect(got?.parsed?.messageId).toBe(acc.message_id);
    expect(got?.parsed?.from).toBe(sender);
    expect(got?.parsed?.to).toEqual(["patient@example.net"]);
    // The provider message id is Gmail's message id, as the recipient row shows.
    expect(done.recipients[0]).toMatchObject({ status: "sent", provider_id: providerId, provider_message_id: done.attempts[0].provider_message_id });
  });

  it("a 429 with Retry-After later than the policy's delay: the retry waits for Retry-After", async () => {
    const clientEmail = `${uniq("relay")}@project.iam.gserviceaccount.com`;
    await sim().registerServiceAccount(clientEmail, publicPem);
    const ws = await createWorkspace({ provider: null });
    await setRetryPolicy(ws, FAST_RETRY); // 1 s
    const sender = `clinic@${ws.domain}`;
    await addProvider(ws, gmailProvider(sender, { client_email: clientEmail, private_key: privatePem }));
    await sim().addFault({
      target: "gmail-send",
      scope: sender,
      status: 429,
      headers: { "retry-after": "3" },
      body: { error: { code: 429, message: "Too many concurrent requests for user", status: "RESOURCE_EXHAUSTED", errors: [{ reason: "rateLimitExceeded" }] } },
      times: 1,
    });

    const acc = await accept(ws, { from: sender });
    const done = await waitForStatus(ws, acc.id, ["sent", "failed"], 15_000);
    expect(done.status).toBe("sent");
    expect(done.attempts.map((a: any) => a.outcome)).toEqual(["transient", "sent"]);
    expect(done.attempts[0].detail).toMatch(/Gmail API 429.*rateLimitExceeded/);
    expect(Date.parse(done.attempts[1].started_at) - Date.parse(done.attempts[0].started_at)).toBeGreaterThanOrEqual(2900);
    // One token served both attempts.
    expect(await sim().received("gmail-token", sender)).toHaveLength(1);
    expect((await sim().received("gmail", sender)).map((g) => g.parsed?.messageId)).toEqual([acc.message_id]);
  });
});
