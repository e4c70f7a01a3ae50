import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("loadConfig", () => {
  it("has development defaults outside production", () => {
    const config = loadConfig({});
    expect(config.dev).toBe(true);
    expect(config.relayUrl.href).toBe("http://127.0.0.1:8787/");
    expect(config.smtpPort).toBe(2525);
    expect(config.smtpsPort).toBeNull();
    expect(config.healthPort).toBe(8025);
    expect(config.maxMessageBytes).toBe(25 * 1024 * 1024);
    expect(config.devInsecureAuth).toBe(true);
    expect(config.tlsCertFile).toBeNull();
  });

  it("requires a relay URL and certificates in production, and refuses insecure AUTH there", () => {
    const problems = problemsOf({ NODE_ENV: "production", BRIDGE_DEV_INSECURE_AUTH: "true" });
    expect(problems).toEqual([
      expect.stringContaining("RELAY_URL: required"),
      expect.stringContaining("required in production"),
      expect.stringContaining("BRIDGE_DEV_INSECURE_AUTH: not allowed"),
    ]);
  });

  it("reads every setting and reports all bad values at once", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      RELAY_URL: "https://relay.example.com/base/",
      BRIDGE_TLS_CERT_FILE: "/certs/cert.pem",
      BRIDGE_TLS_KEY_FILE: "/certs/key.pem",
      BRIDGE_SMTPS_PORT: "465",
      BRIDGE_MAX_MESSAGE_BYTES: "1048576",
      BRIDGE_IDLE_TIMEOUT_S: "30",
      BRIDGE_HEALTH_PORT: "",
      BRIDGE_LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      dev: false,
      smtpsPort: 465,
      maxMessageBytes: 1048576,
      idleTimeoutMs: 30_000,
      healthPort: null,
      logLevel: "warn",
      devInsecureAuth: false,
    });
    const problems = problemsOf({
      RELAY_URL: "ftp://relay.example.com",
      BRIDGE_SMTP_PORT: "70000",
      BRIDGE_MAX_RECIPIENTS: "many",
      BRIDGE_DEV_INSECURE_AUTH: "perhaps",
      BRIDGE_HOSTNAME: "bad host\r\nname",
      BRIDGE_LOG_LEVEL: "loud",
    });
    expect(problems).toHaveLength(6);
    expect(problems.join("\n")).toMatch(/BRIDGE_SMTP_PORT[\s\S]*BRIDGE_MAX_RECIPIENTS[\s\S]*BRIDGE_DEV_INSECURE_AUTH/);
  });

  it("allows plain http to the relay only on loopback unless explicitly allowed", () => {
    expect(problemsOf({ RELAY_URL: "http://localhost:8787" })).toEqual([]);
    expect(problemsOf({ RELAY_URL: "http://relay.internal" })).toHaveLength(1);
    expect(problemsOf({ RELAY_URL: "http://relay.internal", BRIDGE_ALLOW_INSECURE_RELAY: "true" })).toEqual([]);
    expect(problemsOf({ RELAY_URL: "https://user:pw@relay.example.com" })).toHaveLength(1);
  });

  it("refuses port clashes", () => {
    expect(problemsOf({ BRIDGE_SMTP_PORT: "2525", BRIDGE_SMTPS_PORT: "2525" })).toHaveLength(1);
    expect(problemsOf({ BRIDGE_HEALTH_PORT: "2525" })).toHaveLength(1);
  });
});
