// SMTP: smtp-source → bridge → relay, beside smtp-source → smtp-sink and beside the bridge's own
// API endpoint (POST /v1/messages/mime), in the same rounds.
import path from "node:path";
import { freePort, runToEnd, start, stop, waitForPort } from "./procs.mjs";
import { sendN } from "./load.mjs";
import { maxRowid } from "./end-to-end.mjs";
import { mime } from "./messages.mjs";
import { median, ratio, summarize } from "./stats.mjs";

/** `apiAcceptRps`: phase A's accept median, reported beside. */
export async function smtpSection({ root, settings, log }, postfix, ws, relay, apiAcceptRps) {
  const { connections: CONNECTIONS, runs: RUNS, smtp_n: SMTP_N } = settings;
  const sinkPort = await freePort();
  const bridgePort = await freePort();
  const proxyPort = await freePort();
  const asRoot = process.getuid?.() === 0 ? ["-u", "nobody"] : [];
  const sink = await start("smtp-sink", postfix.sink, [...asRoot, `127.0.0.1:${sinkPort}`, "256"], { env: postfix.env });
  await waitForPort(sinkPort);
  const bridge = await start(
    "smtp bridge",
    process.execPath,
    ["--experimental-strip-types", "--no-warnings", path.join(root, "containers", "smtp-bridge", "src", "main.ts")],
    {
      cwd: path.join(root, "containers", "smtp-bridge"),
      env: {
        ...process.env,
        NODE_ENV: "development",
        RELAY_URL: relay.url,
        BRIDGE_SMTP_HOST: "127.0.0.1",
        BRIDGE_SMTP_PORT: String(bridgePort),
        BRIDGE_HEALTH_PORT: "",
        BRIDGE_DEV_INSECURE_AUTH: "true",
        BRIDGE_LOG_LEVEL: "warn",
        BRIDGE_HOSTNAME: "bridge.bench",
      },
    },
  );
  await waitForPort(bridgePort);
  const proxy = await start("auth proxy", process.execPath, [path.join(root, "bench", "smtp-auth-proxy.mjs"), String(proxyPort), String(bridgePort), ws.key], {
    ready: (out) => out.includes("ready"),
  });
  const source = (port, n, tag) =>
    runToEnd(postfix.source, ["-s", String(CONNECTIONS), "-m", String(n), "-d", "-l", "300", "-f", `noreply@${ws.domain}`, "-t", "patient@example.net", "-S", `bench ${tag}`, "-M", "client.bench", `127.0.0.1:${port}`], {
      env: postfix.env,
    });
  const rate = (r, n) => (r.code === 0 ? n / (r.ms / 1000) : NaN);
  // warm-up
  await source(sinkPort, 200, "warm");
  await source(proxyPort, 200, "warm");
  const sinkRates = [];
  const bridgeRates = [];
  const apiRates = [];
  // The API side of the comparison: the bridge's own endpoint (POST /v1/messages/mime, raw
  // message + envelope), the same number of messages at the same concurrency, same round.
  const apiMime = async (round) => {
    const r = await sendN(SMTP_N, CONNECTIONS, (i) => ({
      url: `${relay.url}/v1/messages/mime?mail_from=${encodeURIComponent(`noreply@${ws.domain}`)}&rcpt_to=patient%40example.net`,
      init: {
        method: "POST",
        headers: { authorization: `Bearer ${ws.key}`, "content-type": "message/rfc822" },
        body: `Message-ID: <api-${round}-${i}-${Date.now()}@${ws.domain}>\r\n` + mime(`noreply@${ws.domain}`, ["patient@example.net"], `bench api ${round}`, "x".repeat(300)),
      },
    }));
    if (r.failures.length) problems.push(`API mime: ${r.failures.length} failures, e.g. ${r.failures[0]}`);
    return (SMTP_N - r.failures.length) / (r.ms / 1000);
  };
  const problems = [];
  let accepted = 0;
  let attempted = 0;
  for (let round = 0; round < RUNS; round++) {
    const s = await source(sinkPort, SMTP_N, `sink ${round}`);
    sinkRates.push(rate(s, SMTP_N));
    if (s.code !== 0) problems.push(`smtp-source → smtp-sink exited ${s.code}: ${s.out.slice(-300)}`);
    apiRates.push(await apiMime(round));
    const since = await maxRowid(relay);
    const b = await source(proxyPort, SMTP_N, `bridge ${round}`);
    const got = (await relay.query("SELECT count(*) AS c FROM messages WHERE rowid > ? AND source = 'smtp'", since))[0].c;
    accepted += got;
    attempted += SMTP_N;
    bridgeRates.push(b.code === 0 ? got / (b.ms / 1000) : NaN);
    if (b.code !== 0) problems.push(`smtp-source → bridge exited ${b.code}: ${b.out.slice(-300)}`);
    log(`  smtp round ${round + 1}: sink ${sinkRates.at(-1).toFixed(0)} msg/s, API mime ${apiRates.at(-1).toFixed(0)} msg/s, bridge→relay ${bridgeRates.at(-1).toFixed(0)} msg/s (${got}/${SMTP_N} new messages in the relay)`);
  }
  stop(proxy.child);
  stop(bridge.child);
  stop(sink.child);
  return {
    sessions: CONNECTIONS,
    messages_per_run: SMTP_N,
    sink_rps: summarize(sinkRates),
    bridge_rps: summarize(bridgeRates),
    api_mime_rps: summarize(apiRates),
    api_accept_rps: apiAcceptRps,
    bridge_ratio_to_api: summarize(bridgeRates.map((b, i) => ratio(b, apiRates[i]))),
    bridge_ratio_to_sink: ratio(median(bridgeRates), median(sinkRates)),
    relay_messages_created: accepted,
    messages_sent: attempted,
    problems,
  };
}
