// The image's HEALTHCHECK: exits 0 if GET /healthz on the local health port answers 200.
const port = Number(process.env.BRIDGE_HEALTH_PORT || 8025);
const configured = process.env.BRIDGE_HEALTH_HOST;
const host = !configured || configured === "0.0.0.0" || configured === "::" ? "127.0.0.1" : configured;
const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/healthz`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
