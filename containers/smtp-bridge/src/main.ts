// Entry point: configuration from the environment, TLS material, the bridge, and signals.
import { startBridge } from "./bridge.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { generateSelfSigned, loadTlsMaterial } from "./tls.ts";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`smtp-bridge: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, tokenKey: config.logTokenKey });

  let tls;
  if (config.tlsCertFile && config.tlsKeyFile) {
    tls = await loadTlsMaterial(config.tlsCertFile, config.tlsKeyFile);
  } else {
    log.warn("bridge.self_signed_certificate", {
      message: "no BRIDGE_TLS_CERT_FILE/BRIDGE_TLS_KEY_FILE: using a generated self-signed certificate (development only)",
    });
    tls = await generateSelfSigned(config.hostname);
  }
  if (config.devInsecureAuth) {
    log.warn("bridge.dev_insecure_auth", { message: "AUTH without TLS is allowed for loopback clients (development only)" });
  }

  const bridge = await startBridge(config, { logger: log, tls });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn("bridge.forced_exit", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("bridge.signal", { signal });
    bridge.drain().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("bridge.drain_failed", { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`smtp-bridge: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
