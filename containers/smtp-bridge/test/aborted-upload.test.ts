// A client that hangs up in the middle of DATA: the relay never gets a complete request, and the
// bridge logs it as an aborted upload (its own event, info level), not as an error or a message.
import { afterAll, beforeAll, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";

const KEY = "rk_aborted_upload_test_key";
let relay: FakeRelay;
let bridge: TestBridge;

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
  bridge = await startTestBridge(relay.url);
});

afterAll(async () => {
  await bridge.drain();
  await relay.close();
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it("logs a client disconnect mid-DATA as smtp.aborted (info), with no error and no message record", async () => {
  const client = await RawSmtp.session(bridge.smtpPort, KEY);
  expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
  expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
  expectCode(await client.cmd("DATA"), 354);
  client.write("Message-ID: <half@clinic.example>\r\nSubject: Lab results\r\n\r\n" + "x".repeat(70) + "\r\n".repeat(50));
  await new Promise((resolve) => setTimeout(resolve, 100));
  client.close();

  await until(() => bridge.records().some((r) => r.event === "smtp.aborted"));
  const aborted = bridge.records().filter((r) => r.event === "smtp.aborted");
  expect(aborted).toHaveLength(1);
  expect(aborted[0]).toMatchObject({ level: "info", data_end: "client_disconnected", local_rejection: null });
  expect(bridge.records().filter((r) => r.event === "smtp.message")).toHaveLength(0);
  expect(bridge.records().filter((r) => r.level === "error")).toEqual([]);
  // the relay saw a request that never completed, nothing it could accept
  await until(() => relay.aborted === 1);
  expect(relay.posts).toHaveLength(0);
  expect(bridge.logs.join("\n")).not.toContain("Lab results");
});
