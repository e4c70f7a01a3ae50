// The bridge in front of the real relay (wrangler dev on a throwaway state directory, started
// by scripts/dev.mjs exactly as `npm start` does, without its own bridge): nodemailer over
// STARTTLS + AUTH → 250 with the relay's id → the message reaches `sent` through the sandbox
// provider, and a client retry of the same Message-ID does not create a second message.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { postfixLog, postfixSentCount, postfixUsable, sendmail, startPostfix, stopPostfix } from "./helpers/postfix.ts";

const root = path.resolve(import.meta.dirname, "..", "..", "..");
const STARTUP_MS = 150_000;

let relay: ChildProcess | null = null;
let relayLog = "";
let stateDir = "";
let base = "";
let apiKey = "";
let adminKey = "";
let domain = "";
let bridge: TestBridge | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function startRelay(port: number): Promise<void> {
  const child = spawn(process.execPath, [path.join(root, "scripts", "dev.mjs")], {
    cwd: root,
    // its own process group, so wrangler and both workerd processes go down together
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      // wrangler starts with `#!/usr/bin/env node`: make that this Node (≥ 22), not an older system one
      PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      RELAY_PERSIST_DIR: stateDir,
      RELAY_PORT: String(port),
      RELAY_NO_BRIDGE: "1",
      NO_COLOR: "1",
    },
  });
  relay = child;
  child.stdout!.on("data", (d: Buffer) => (relayLog += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (relayLog += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (relayLog.includes("relay: ready")) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    child.once("exit", (code) => {
      clearInterval(timer);
      reject(new Error(`scripts/dev.mjs exited (${code}) before it was ready:\n${relayLog.slice(-3000)}`));
    });
  });
}

function stopRelay(): void {
  if (!relay?.pid) return;
  try {
    process.kill(-relay.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(tmpdir(), "relay-bridge-e2e-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  await startRelay(port);
  const creds = JSON.parse(readFileSync(path.join(stateDir, "dev-credentials.json"), "utf8")) as { api_key: string; domain: string };
  domain = creds.domain;
  adminKey = creds.api_key;
  // The key `npm start` prints is admin-scoped (admin holds every scope): the README tells
  // people to AUTH with exactly that key, so the test does too.
  apiKey = creds.api_key;
  bridge = await startTestBridge(base, {}, { BRIDGE_LOG_LEVEL: "warn" });
}, STARTUP_MS);

afterAll(async () => {
  await bridge?.drain();
  stopRelay();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 30_000);

// Reads go through the dev key (admin holds every scope, `read_bodies` for the rendered copy).
const api = async (pathname: string): Promise<Response> =>
  fetch(base + pathname, { headers: { authorization: `Bearer ${adminKey}` } });

function transport() {
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port: bridge!.smtpPort,
    secure: false,
    requireTLS: true,
    auth: { user: "apikey", pass: apiKey },
    tls: { rejectUnauthorized: false },
  });
}

async function waitForStatus(id: string, wanted: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await api(`/v1/messages/${id}`);
    last = (await res.json()) as Record<string, unknown>;
    if (last.status === wanted) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`message ${id} did not reach ${wanted} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

const relayIdOf = (response: string): string => {
  const match = /^250 2\.0\.0 Ok: queued as (msg_[A-Za-z0-9_-]+)$/.exec(response);
  expect(match, response).not.toBeNull();
  return match![1]!;
};

it("STARTTLS + AUTH → 250 with the relay's id → sent, rendered with the same Subject", async () => {
  const subject = `Lab results ready ${Date.now()}`;
  const t = transport();
  try {
    const info = await t.sendMail({
      from: `App <app@${domain}>`,
      to: "doc@hospital.example",
      subject,
      text: "Your results are available in the portal.\n",
      messageId: `<e2e-first-${Date.now()}@${domain}>`,
    });
    const id = relayIdOf(info.response);
    const detail = await waitForStatus(id, "sent", 30_000);
    expect(detail.id).toBe(id);
    const rendered = await api(`/v1/messages/${id}/rendered`);
    expect(rendered.status).toBe(200);
    const text = await rendered.text();
    const header = text.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, " ");
    expect(/^Subject: (.*)$/im.exec(header)?.[1]?.trim()).toBe(subject);
  } finally {
    t.close();
  }
}, 60_000);

it("the same Message-ID sent twice yields one message", async () => {
  const messageId = `<e2e-retry-${Date.now()}@${domain}>`;
  const mail = { from: `app@${domain}`, to: "nurse@hospital.example", subject: "Retry me", text: "once\n", messageId };
  const t = transport();
  try {
    const first = relayIdOf((await t.sendMail(mail)).response);
    const second = relayIdOf((await t.sendMail(mail)).response);
    expect(second).toBe(first);
    const list = (await (await api(`/v1/messages?limit=100`)).json()) as { data: Array<{ id: string; message_id?: string }> };
    expect(list.data.filter((m) => m.id === first)).toHaveLength(1);
    expect(list.data.filter((m) => m.message_id === messageId)).toHaveLength(1);
    await waitForStatus(first, "sent", 30_000);
  } finally {
    t.close();
  }
}, 60_000);

// An outside trial: Postfix split one message to 120 recipients into transactions of 50/50/20
// under one Message-ID, got 250 for each, and the relay stored 50. Here the same bytes go in three
// transactions (nodemailer's `raw` sends them untouched), then a fourth that hits the bridge's
// 100-recipient limit and sends the rest again, as RFC 5321 tells a client told 452.
it("one message split over several transactions under one Message-ID: every recipient is sent", async () => {
  const messageId = `<e2e-split-${Date.now()}@${domain}>`;
  const raw = `From: App <app@${domain}>\r\nTo: undisclosed-recipients:;\r\nSubject: Split\r\nMessage-ID: ${messageId}\r\n\r\nFor everyone.\r\n`;
  const patients = (n: number, from: number) => Array.from({ length: n }, (_, i) => `p${from + i}@hospital.example`);
  const t = transport();
  const ids: string[] = [];
  try {
    for (const to of [patients(50, 0), patients(50, 50), patients(20, 100)]) {
      ids.push(relayIdOf((await t.sendMail({ envelope: { from: `app@${domain}`, to }, raw })).response));
    }
    // 150 more in one transaction: the bridge takes 100 and answers 452 for the rest...
    const big = await t.sendMail({ envelope: { from: `app@${domain}`, to: patients(150, 120) }, raw });
    ids.push(relayIdOf(big.response));
    expect(big.rejected).toHaveLength(50);
    // ...which the client sends in a new transaction.
    ids.push(relayIdOf((await t.sendMail({ envelope: { from: `app@${domain}`, to: big.rejected as string[] }, raw })).response));
  } finally {
    t.close();
  }
  expect(new Set(ids).size).toBe(ids.length);
  const sent: string[] = [];
  for (const id of ids) {
    const detail = (await waitForStatus(id, "sent", 60_000)) as { message_id: string; recipients: { email: string; status: string }[] };
    expect(detail.message_id).toBe(messageId);
    sent.push(...detail.recipients.filter((r) => r.status === "sent").map((r) => r.email));
  }
  expect(sent.sort()).toEqual(patients(270, 0).sort());
}, 120_000);

// The same split, by Postfix itself: one message to 120 recipients, which Postfix relays to the
// bridge as three transactions (50/50/20), in parallel sessions.
it.skipIf(!postfixUsable())("a real Postfix relaying one message to 120 recipients through the bridge: all 120 sent", async () => {
  const messageId = `<postfix-split-${Date.now()}@${domain}>`;
  const all = Array.from({ length: 120 }, (_, i) => `pf${i}@hospital.example`);
  startPostfix(bridge!.smtpPort, "apikey", apiKey);
  try {
    sendmail(`app@${domain}`, all, `From: App <app@${domain}>\nTo: undisclosed-recipients:;\nSubject: Postfix split\nMessage-ID: ${messageId}\n\nFor all 120.\n`);
    const deadline = Date.now() + 90_000;
    while (postfixSentCount() < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(postfixSentCount(), postfixLog().slice(-3000)).toBe(120);
  } finally {
    stopPostfix();
  }
  const list = (await (await api(`/v1/messages?limit=100`)).json()) as { data: Array<{ id: string; message_id: string }> };
  const ids = list.data.filter((m) => m.message_id === messageId).map((m) => m.id);
  expect(ids.length).toBeGreaterThanOrEqual(3);
  const sent: string[] = [];
  for (const id of ids) {
    const detail = (await waitForStatus(id, "sent", 60_000)) as { recipients: { email: string; status: string }[] };
    sent.push(...detail.recipients.filter((r) => r.status === "sent").map((r) => r.email));
  }
  expect(sent.sort()).toEqual([...all].sort());
}, 180_000);
