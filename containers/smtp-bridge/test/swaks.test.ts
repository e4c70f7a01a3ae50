// The bridge driven by swaks, the tool operators use to check an SMTP service by hand.
// CI needs the `swaks` apt package (Debian/Ubuntu: apt-get install -y swaks).
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { startTestBridge, type TestBridge } from "./helpers/bridge.ts";

const KEY = "rk_swaks_test_key";
let relay: FakeRelay;
let bridge: TestBridge;
let devBridge: TestBridge;

function swaks(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("swaks", ["--timeout", "10", ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

const common = (port: number, id: string) => [
  "--server", `127.0.0.1:${port}`,
  "--from", "app@clinic.example",
  "--to", "doc@hospital.example",
  "--header", `Message-Id: <${id}@clinic.example>`,
  "--header", "Subject: swaks check",
  "--body", "Sent by swaks.",
];

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
  bridge = await startTestBridge(relay.url);
  devBridge = await startTestBridge(relay.url, { devInsecureAuth: true });
});

afterAll(async () => {
  await bridge.drain();
  await devBridge.drain();
  await relay.close();
});

describe("swaks", () => {
  for (const method of ["PLAIN", "LOGIN"]) {
    it(`sends over STARTTLS with AUTH ${method}`, async () => {
      const before = relay.messages.length;
      const result = await swaks([...common(bridge.smtpPort, `swaks-${method}`), "--tls", "--auth", method, "--auth-user", "api", "--auth-password", KEY]);
      expect(result.code, result.output).toBe(0);
      expect(result.output).toMatch(/<[~-] +250 2\.0\.0 Ok: queued as msg_\d+/);
      expect(relay.messages.length).toBe(before + 1);
      const got = relay.messages.at(-1)!;
      expect(got.authorization).toBe(`Bearer ${KEY}`);
      expect(got.body.toString()).toContain(`Message-Id: <swaks-${method}@clinic.example>`);
      expect(got.body.toString()).toContain("Sent by swaks.");
    });
  }

  it("cannot authenticate without TLS", async () => {
    const before = relay.posts.length;
    const result = await swaks([...common(bridge.smtpPort, "swaks-plain"), "--auth", "PLAIN", "--auth-user", "api", "--auth-password", KEY]);
    expect(result.code).not.toBe(0);
    expect(result.output).not.toContain("235");
    expect(relay.posts.length).toBe(before);
  });

  it("gets 535 for a wrong key", async () => {
    const result = await swaks([...common(bridge.smtpPort, "swaks-wrong"), "--tls", "--auth", "PLAIN", "--auth-user", "api", "--auth-password", "rk_wrong"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("535 5.7.8");
  });

  it("gets 530 without AUTH", async () => {
    const result = await swaks([...common(bridge.smtpPort, "swaks-noauth"), "--tls"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("530 5.7.0");
  });

  it("works without TLS from loopback with the development flag (the README's local check)", async () => {
    const result = await swaks([...common(devBridge.smtpPort, "swaks-dev"), "--auth-user", "api", "--auth-password", KEY]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/<[~-] +250 2\.0\.0 Ok: queued as msg_\d+/);
  });
});
