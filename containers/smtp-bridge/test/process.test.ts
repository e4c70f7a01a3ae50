// The bridge as the container runs it: `node src/main.ts` with configuration from the
// environment, the HEALTHCHECK script, and graceful shutdown on SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeRelay } from "./helpers/fake-relay.ts";
import { testTls } from "./helpers/bridge.ts";
import { RawSmtp, expectCode } from "./helpers/smtp-client.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const KEY = "rk_process_test_key";

interface Run {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function run(script: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--experimental-strip-types", "--no-warnings", path.join(ROOT, "src", script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(...chunk.toString().split("\n").filter(Boolean)));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout, stderr, exited };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address ? address.port : 0;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let relay: FakeRelay;
let dir: string;
let certFile: string;
let keyFile: string;

beforeAll(async () => {
  relay = await new FakeRelay().start();
  relay.addKey(KEY);
  dir = await mkdtemp(path.join(os.tmpdir(), "bridge-process-test-"));
  const tls = await testTls();
  certFile = path.join(dir, "cert.pem");
  keyFile = path.join(dir, "key.pem");
  await writeFile(certFile, tls.cert);
  await writeFile(keyFile, tls.key);
});

afterAll(async () => {
  await relay.close();
  await rm(dir, { recursive: true, force: true });
});

describe("configuration", () => {
  it("refuses to start with a clear message listing every problem", async () => {
    const r = run("main.ts", {
      NODE_ENV: "production",
      RELAY_URL: "http://relay.example.com",
      BRIDGE_SMTP_PORT: "not-a-port",
      BRIDGE_TLS_CERT_FILE: certFile,
    });
    expect(await r.exited).toBe(78);
    const message = r.stderr.join("");
    expect(message).toContain("invalid configuration");
    expect(message).toContain("BRIDGE_SMTP_PORT: expected a whole number");
    expect(message).toContain("RELAY_URL: plain http is only allowed to a loopback host");
    const r2 = run("main.ts", { NODE_ENV: "production", RELAY_URL: "http://relay.example.com", BRIDGE_TLS_CERT_FILE: certFile });
    expect(await r2.exited).toBe(78);
    const message2 = r2.stderr.join("");
    expect(message2).toContain("RELAY_URL: plain http is only allowed to a loopback host");
    expect(message2).toContain("BRIDGE_TLS_CERT_FILE and BRIDGE_TLS_KEY_FILE: set both or neither");
  });

  it("fails at start when the certificate files are unreadable", async () => {
    const r = run("main.ts", {
      NODE_ENV: "production",
      RELAY_URL: relay.url,
      BRIDGE_TLS_CERT_FILE: path.join(dir, "missing.pem"),
      BRIDGE_TLS_KEY_FILE: keyFile,
      BRIDGE_SMTP_PORT: "0",
      BRIDGE_HEALTH_PORT: "",
    });
    expect(await r.exited).toBe(1);
    expect(r.stderr.join("")).toContain("missing.pem");
  });
});

describe("running", () => {
  it("serves mail, passes its HEALTHCHECK, and drains on SIGTERM", async () => {
    const smtpPort = await freePort();
    const healthPort = await freePort();
    const env = {
      NODE_ENV: "production",
      RELAY_URL: relay.url,
      BRIDGE_TLS_CERT_FILE: certFile,
      BRIDGE_TLS_KEY_FILE: keyFile,
      BRIDGE_SMTP_HOST: "127.0.0.1",
      BRIDGE_SMTP_PORT: String(smtpPort),
      BRIDGE_HEALTH_HOST: "127.0.0.1",
      BRIDGE_HEALTH_PORT: String(healthPort),
      BRIDGE_HOSTNAME: "bridge.test",
      BRIDGE_SHUTDOWN_TIMEOUT_S: "10",
    };
    const bridge = run("main.ts", env);
    try {
      await waitFor(() => bridge.stdout.find((line) => line.includes('"bridge.start"')));
      const health = run("healthcheck.ts", { BRIDGE_HEALTH_PORT: String(healthPort), BRIDGE_HEALTH_HOST: "0.0.0.0" });
      expect(await health.exited).toBe(0);

      // a transaction in flight when SIGTERM arrives still gets its 250
      relay.acceptDelayMs = 800;
      const client = await RawSmtp.session(smtpPort, KEY);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 250);
      expectCode(await client.cmd("RCPT TO:<doc@hospital.example>"), 250);
      expectCode(await client.cmd("DATA"), 354);
      client.write("Message-ID: <sigterm@clinic.example>\r\nSubject: in flight\r\n\r\nbody\r\n.\r\n");
      await waitFor(() => (relay.posts.length > 0 ? true : undefined));
      bridge.child.kill("SIGTERM");
      await waitFor(() => bridge.stdout.find((line) => line.includes('"bridge.drain"')));
      const draining = run("healthcheck.ts", { BRIDGE_HEALTH_PORT: String(healthPort) });
      expect(await draining.exited).toBe(1);
      expectCode(await client.read(), 250);
      expectCode(await client.cmd("MAIL FROM:<app@clinic.example>"), 421);
      expect(await bridge.exited).toBe(0);
      const events = bridge.stdout.map((line) => (JSON.parse(line) as { event: string }).event);
      expect(events).toContain("bridge.stop");
      client.close();
    } finally {
      relay.acceptDelayMs = 0;
      bridge.child.kill("SIGKILL");
    }
  });

  it("generates a self-signed certificate for local development when none is configured", async () => {
    const smtpPort = await freePort();
    const dev = run("main.ts", {
      RELAY_URL: relay.url,
      BRIDGE_SMTP_HOST: "127.0.0.1",
      BRIDGE_SMTP_PORT: String(smtpPort),
      BRIDGE_HEALTH_PORT: "",
    });
    try {
      await waitFor(() => dev.stdout.find((line) => line.includes('"bridge.start"')));
      expect(dev.stdout.join("\n")).toContain("bridge.self_signed_certificate");
      const client = await RawSmtp.session(smtpPort, KEY);
      expectCode(await client.send("app@clinic.example", ["doc@hospital.example"], "Message-ID: <dev@clinic.example>\r\n\r\nhi\r\n"), 250);
      client.close();
      dev.child.kill("SIGTERM");
      expect(await dev.exited).toBe(0);
    } finally {
      dev.child.kill("SIGKILL");
    }
  });
});
