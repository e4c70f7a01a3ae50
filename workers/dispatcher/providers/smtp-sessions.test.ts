// Sessions shared within one delivery batch (smtp-sessions.ts), against the SMTP sink: which
// sends came on which connection is read from the sink's record of each message.
import { describe, expect, inject, it } from "vitest";
import { simulatorClient } from "../../../test/simulators/workerd-client";
import { createSmtpProvider, type SmtpConfigInput } from "./smtp";
import { SmtpSessionPool } from "./smtp-sessions";
import { makeCtx, makeMessage, uniq } from "./test-fixtures";

/** Runs `fn` as one queue batch would: its sends share a pool, closed (QUIT) at the end. */
async function withPool(fn: (pooled: () => ReturnType<typeof makeCtx>) => Promise<void>): Promise<void> {
  const sessions = new SmtpSessionPool();
  try {
    await fn(() => ({ ...makeCtx(), sessions }));
  } finally {
    await sessions.close();
  }
}

describe("SMTP sessions within a delivery batch", { timeout: 30_000 }, () => {
  const sims = inject("simulators");
  const sim = simulatorClient(sims.httpUrl);
  const config = (o: Partial<SmtpConfigInput> = {}): SmtpConfigInput => ({
    host: "localhost",
    port: sims.smtp.port,
    security: "starttls",
    username: sims.smtp.username,
    timeout_ms: 5000,
    ...o,
  });
  const provider = (o: Partial<SmtpConfigInput> = {}, password = sims.smtp.password) => createSmtpProvider(config(o), { password });
  // One sender domain per test, so its sessions (keyed by the EHLO name among others) are its own.
  const senders = () => {
    const domain = `${uniq("d")}.example.org`.toLowerCase();
    return () => `${uniq("s")}@${domain}`;
  };
  const sessionOf = async (from: string) => {
    const got = await sim.received("smtp", from);
    expect(got, from).toHaveLength(1);
    return got[0]!.session;
  };

  it("messages to one smarthost share one session; outside a batch each send has its own", async () => {
    const p = provider();
    const next = senders();
    const inBatch = [next(), next(), next()];
    await withPool(async (pooled) => {
      for (const from of inBatch) expect((await p.send(makeMessage({ from }), pooled())).status).toBe("sent");
    });
    const shared = await Promise.all(inBatch.map(sessionOf));
    expect(new Set(shared).size).toBe(1);

    const alone = [next(), next()];
    for (const from of alone) expect((await p.send(makeMessage({ from }), makeCtx())).status).toBe("sent");
    const own = await Promise.all(alone.map(sessionOf));
    expect(new Set([...own, shared[0]]).size).toBe(3);
  });

  it("never opens more than max_connections at once: the other sends wait and reuse them", async () => {
    const p = provider({ max_connections: 2 });
    const next = senders();
    const froms = Array.from({ length: 8 }, next);
    await withPool(async (pooled) => {
      const results = await Promise.all(froms.map((from) => p.send(makeMessage({ from }), pooled())));
      expect(results.map((r) => r.status)).toEqual(froms.map(() => "sent"));
    });
    const used = new Set(await Promise.all(froms.map(sessionOf)));
    expect(used.size).toBeGreaterThanOrEqual(1);
    expect(used.size).toBeLessThanOrEqual(2);
  });

  it("a session the server dropped or closed (421) while idle: the message goes on a new one", async () => {
    for (const fault of [{ action: "drop" as const }, { status: 421, body: "4.3.2 Service shutting down" }]) {
      const p = provider();
      const next = senders();
      const [first, second, third] = [next(), next(), next()];
      await withPool(async (pooled) => {
        expect((await p.send(makeMessage({ from: first }), pooled())).status).toBe("sent");
        // Only the next MAIL from `second` fails: that is the reused session's first command.
        await sim.addFault({ target: "smtp-mail", scope: second, times: 1, ...fault });
        expect((await p.send(makeMessage({ from: second }), pooled())).status).toBe("sent");
        expect((await p.send(makeMessage({ from: third }), pooled())).status).toBe("sent");
      });
      const [a, b, c] = [await sessionOf(first), await sessionOf(second), await sessionOf(third)];
      expect(b, JSON.stringify(fault)).not.toBe(a);
      expect(c, JSON.stringify(fault)).toBe(b);
      await sim.clearFaults(second);
    }
  });

  it("a session is never shared across credentials: a wrong password fails even after a good one", async () => {
    const next = senders();
    const [ok, wrong] = [next(), next()];
    await withPool(async (pooled) => {
      expect((await provider().send(makeMessage({ from: ok }), pooled())).status).toBe("sent");
      const res = await provider({}, "not-the-password").send(makeMessage({ from: wrong }), pooled());
      expect(res).toMatchObject({ status: "permanent", configuration: true });
    });
    expect(await sim.received("smtp", wrong)).toHaveLength(0);
  });

  it("two workspaces' providers never share a session, even with the same server and account", async () => {
    const next = senders();
    const [a, b, a2] = [next(), next(), next()];
    const mine = createSmtpProvider(config(), { password: sims.smtp.password }, "ws_a/prv_1");
    const theirs = createSmtpProvider(config(), { password: sims.smtp.password }, "ws_b/prv_2");
    await withPool(async (pooled) => {
      expect((await mine.send(makeMessage({ from: a }), pooled())).status).toBe("sent");
      expect((await theirs.send(makeMessage({ from: b }), pooled())).status).toBe("sent");
      expect((await mine.send(makeMessage({ from: a2 }), pooled())).status).toBe("sent");
    });
    const [sa, sb, sa2] = [await sessionOf(a), await sessionOf(b), await sessionOf(a2)];
    expect(sb).not.toBe(sa);
    expect(sa2).toBe(sa);
  });

  it("after a refused recipient the session is reset and carries the next message", async () => {
    const p = provider();
    const next = senders();
    const [before, refused, after] = [next(), next(), next()];
    await sim.addFault({ target: "smtp-rcpt", scope: refused, status: 550, body: "5.1.1 User unknown" });
    await withPool(async (pooled) => {
      expect((await p.send(makeMessage({ from: before }), pooled())).status).toBe("sent");
      expect((await p.send(makeMessage({ from: refused }), pooled())).status).toBe("permanent");
      expect((await p.send(makeMessage({ from: after, to: ["next@example.com"] }), pooled())).status).toBe("sent");
    });
    expect(await sim.received("smtp", refused)).toHaveLength(0);
    const [got] = await sim.received("smtp", after);
    // The same session before and after, and nothing of the refused transaction in the next one.
    expect(got).toMatchObject({ session: await sessionOf(before), mailFrom: after, rcptTo: ["next@example.com"] });
    await sim.clearFaults(refused);
  });

  it("a partly refused envelope: with PIPELINING the session is closed instead of DATA; without, it is reset and reused", async () => {
    for (const [port, reused] of [
      [sims.smtp.port, false],
      [sims.smtp.noPipeliningPort, true],
    ] as const) {
      const p = provider({ port });
      const next = senders();
      const [before, mixed, after] = [next(), next(), next()];
      await sim.addFault({ target: "smtp-rcpt", scope: mixed, match: "gone@example.com", status: 550, body: "5.1.1 User unknown" });
      await withPool(async (pooled) => {
        expect((await p.send(makeMessage({ from: before }), pooled())).status).toBe("sent");
        const res = await p.send(makeMessage({ from: mixed, to: ["ok@example.com", "gone@example.com"] }), pooled());
        expect(res).toMatchObject({ status: "permanent", recipients: [{ email: "gone@example.com" }] });
        expect((await p.send(makeMessage({ from: after }), pooled())).status).toBe("sent");
      });
      // Nothing reached ok@ for the refused send: not the message, not an empty one.
      expect(await sim.received("smtp", mixed), `port ${port}`).toHaveLength(0);
      expect((await sessionOf(after)) === (await sessionOf(before)), `port ${port}`).toBe(reused);
      await sim.clearFaults(mixed);
    }
  });
});
