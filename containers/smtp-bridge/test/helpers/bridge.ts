// Starts a bridge in-process on random loopback ports, with a captured log.
import { startBridge, type Bridge } from "../../src/bridge.ts";
import { loadConfig, type BridgeConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { generateSelfSigned, type TlsMaterial } from "../../src/tls.ts";

let material: Promise<TlsMaterial> | null = null;
/** One self-signed pair per test file (openssl takes a moment). */
export function testTls(): Promise<TlsMaterial> {
  return (material ??= generateSelfSigned("localhost"));
}

export interface TestBridge extends Bridge {
  config: BridgeConfig;
  logs: string[];
  /** parsed log records */
  records(): Array<Record<string, unknown>>;
}

export async function startTestBridge(
  relayUrl: string,
  overrides: Partial<BridgeConfig> = {},
  env: Record<string, string> = {},
): Promise<TestBridge> {
  const config: BridgeConfig = {
    ...loadConfig({
      NODE_ENV: "test",
      RELAY_URL: relayUrl,
      BRIDGE_SMTP_HOST: "127.0.0.1",
      BRIDGE_SMTP_PORT: "0",
      BRIDGE_HEALTH_HOST: "127.0.0.1",
      BRIDGE_HEALTH_PORT: "0",
      BRIDGE_HOSTNAME: "bridge.test",
      BRIDGE_DEV_INSECURE_AUTH: "false",
      BRIDGE_SHUTDOWN_TIMEOUT_S: "5",
      BRIDGE_LOG_LEVEL: "debug",
      ...env,
    }),
    ...overrides,
  };
  const logs: string[] = [];
  const logger = createLogger({ level: config.logLevel, tokenKey: "test-token-key-0123456789", write: (line) => logs.push(line) });
  const bridge = await startBridge(config, { logger, tls: await testTls() });
  return Object.assign(bridge, {
    config,
    logs,
    records: () => logs.map((line) => JSON.parse(line) as Record<string, unknown>),
  });
}
