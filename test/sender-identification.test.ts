// Workspace identification by sender: credentials name their workspace (API, SMTP bridge) and can
// only send as domains it verified; unauthenticated mail is attributed by the verified From
// domain, and a domain nobody verified goes to DEFAULT_WORKSPACE when one is configured. No path
// lets one tenant (the default included) send as a domain another tenant verified.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/index";
import { api, createWorkspace, json, message, waitForStatus, type TestWorkspace } from "./helpers";
import { crlf, emailMessage } from "./inbound-fixtures";

const SUBMIT = "send@submit.relay.example";
const slugOf = (ws: TestWorkspace) => ws.domain.replace(/\.example\.org$/, "");

/** worker.email() with some vars changed (DEFAULT_WORKSPACE is empty in wrangler.toml). */
async function deliverWith(vars: Record<string, string>, raw: string, envelope: { from: string; to: string }) {
  const msg = emailMessage(raw, envelope);
  const ctx = { waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
  await worker.email!(msg, { ...env, ...vars } as Env, ctx);
  return msg;
}

function mail(from: string, opts: { dmarc?: "pass" | "fail"; sender?: string; to?: string } = {}) {
  const domain = from.split("@")[1];
  return crlf(
    `Authentication-Results: mx.cloudflare.net;\n dkim=pass header.d=${domain} header.s=s1;\n spf=pass smtp.mailfrom=${from};\n dmarc=${opts.dmarc ?? "pass"} header.from=${domain}\n` +
      `From: Clinic <${from}>\n${opts.sender ? `Sender: ${opts.sender}\n` : ""}To: Patient <patient@example.net>, ${opts.to ?? SUBMIT}\nSubject: Appointment\n` +
      `Message-ID: <${crypto.randomUUID()}@${domain}>\nDate: Sat, 28 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nSee you Tuesday.\n`,
  );
}

const emailMessages = async (ws: TestWorkspace) => (await json(await api("/v1/messages?limit=50", { key: ws.key }))).data.filter((m: any) => m.source === "email");
const unclaimed = () => `partner-${crypto.randomUUID().slice(0, 8)}.example`;

describe("inbound mail: workspace by sender domain, default workspace fallback", { timeout: 20_000 }, () => {
  it("a domain no workspace verified goes to the default workspace (DMARC still required)", async () => {
    const dflt = await createWorkspace();
    const vars = { DEFAULT_WORKSPACE: slugOf(dflt) };
    const from = `desk@${unclaimed()}`;

    const ok = await deliverWith(vars, mail(from), { from, to: SUBMIT });
    expect(ok.rejected).toBeNull();
    const [m, ...more] = await emailMessages(dflt);
    expect(more).toHaveLength(0);
    expect(m.from).toBe(from);
    expect((await waitForStatus(dflt, m.id, ["sent", "failed"])).status).toBe("sent");

    const failed = await deliverWith(vars, mail(`desk@${unclaimed()}`, { dmarc: "fail" }), { from, to: SUBMIT });
    expect(failed.rejected).toMatch(/^550 5\.7\.26 sender not authenticated/);
    expect(await emailMessages(dflt)).toHaveLength(1);
  });

  it("without DEFAULT_WORKSPACE an unclaimed domain is refused (today's behaviour)", async () => {
    const from = `desk@${unclaimed()}`;
    const res = await deliverWith({}, mail(from), { from, to: SUBMIT });
    expect(res.rejected).toMatch(/^550 5\.7\.1 sender domain .* is not a verified sender domain of any workspace/);
  });

  it("a domain verified by workspace A always goes to A, never to the default, and fails closed", async () => {
    const a = await createWorkspace();
    const dflt = await createWorkspace();
    const vars = { DEFAULT_WORKSPACE: slugOf(dflt) };
    const from = `desk@${a.domain}`;

    expect((await deliverWith(vars, mail(from), { from, to: SUBMIT })).rejected).toBeNull();
    expect(await emailMessages(a)).toHaveLength(1);
    expect(await emailMessages(dflt)).toHaveLength(0);

    // A's domain failing DMARC is refused, not handed to the default workspace.
    const spoofed = await deliverWith(vars, mail(from, { dmarc: "fail" }), { from, to: SUBMIT });
    expect(spoofed.rejected).toMatch(/^550 5\.7\.26 sender not authenticated/);
    // A slug address naming the default workspace does not move A's domain there either.
    const wildcard = { ...vars, SUBMISSION_ADDRESSES: "*@in.relay.example" };
    const addressed = await deliverWith(wildcard, mail(from, { to: `${slugOf(dflt)}@in.relay.example` }), { from, to: `${slugOf(dflt)}@in.relay.example` });
    expect(addressed.rejected).toMatch(/^550 5\.7\.1 .* may not submit to this address/);
    expect(await emailMessages(a)).toHaveLength(1);
    expect(await emailMessages(dflt)).toHaveLength(0);
  });

  it("the default workspace cannot use another tenant's domain as Sender", async () => {
    const a = await createWorkspace();
    const dflt = await createWorkspace();
    const from = `desk@${unclaimed()}`;
    const res = await deliverWith({ DEFAULT_WORKSPACE: slugOf(dflt) }, mail(from, { sender: `ops@${a.domain}` }), { from, to: SUBMIT });
    expect(res.rejected).toMatch(new RegExp(`^550 5\\.7\\.1 sender domain ${a.domain.replace(/\./g, "\\.")} is not verified for this workspace`));
    expect(await emailMessages(dflt)).toHaveLength(0);
    expect(await emailMessages(a)).toHaveLength(0);
  });

  it("a configured default that does not exist fails temporarily (the sender retries), not with a rejection", async () => {
    const from = `desk@${unclaimed()}`;
    await expect(deliverWith({ DEFAULT_WORKSPACE: "no-such-workspace" }, mail(from), { from, to: SUBMIT })).rejects.toThrow(/DEFAULT_WORKSPACE/);
  });
});

describe("credentials: a workspace sends only as its own verified domains", () => {
  it("workspace B's key sending From A's domain is 403 sender_domain_not_verified on every send route", async () => {
    const a = await createWorkspace();
    const b = await createWorkspace();
    const spoof = { ...message(b), from: `Clinic <a@${a.domain}>` };

    const res = await api("/v1/messages", { method: "POST", key: b.key, json: spoof });
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("sender_domain_not_verified");

    const batch = await json(await api("/v1/messages/batch", { method: "POST", key: b.key, json: { messages: [spoof] } }));
    expect(batch.results[0]).toMatchObject({ status: 403, error: { code: "sender_domain_not_verified" } });

    // MIME (the SMTP bridge's path): From, and Sender, are both checked.
    for (const headers of [`From: a@${a.domain}\n`, `From: x@${b.domain}\nSender: a@${a.domain}\n`]) {
      const raw = crlf(`${headers}To: pat@example.net\nSubject: hi\n\nhello\n`);
      const mime = await api(`/v1/messages/mime?mail_from=x@${b.domain}&rcpt_to=pat@example.net`, {
        method: "POST",
        key: b.key,
        headers: { "content-type": "message/rfc822", "x-relay-source": "smtp" },
        body: raw,
      });
      expect(mime.status, headers).toBe(403);
      expect((await json(mime)).error.code).toBe("sender_domain_not_verified");
    }
  });

  it("no key can use an unclaimed domain, not even the default workspace's (the fallback is for inbound mail only)", async () => {
    const dflt = await createWorkspace();
    const res = await api("/v1/messages", { method: "POST", key: dflt.key, json: { ...message(dflt), from: `desk@${unclaimed()}` } });
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("sender_domain_not_verified");
  });
});
