// Load generators: wrk for fixed-duration HTTP throughput and latency (a small C program, so
// the generator costs little of the 2 cores), and a fetch loop for "send exactly N".
import { spawn } from "node:child_process";
import http from "node:http";
import { writeFileSync } from "node:fs";
import path from "node:path";

const luaString = (s) => {
  let eq = "";
  while (s.includes(`]${eq}]`) || s.endsWith(`]${eq}`)) eq += "=";
  return `[${eq}[${s}]${eq}]`;
};

/**
 * Runs wrk against `url` and returns { rps, p50_ms, p90_ms, p99_ms, max_ms, requests, errors }.
 * Only 2xx/3xx count as successes; rps counts successes only.
 */
export async function wrk({ bin, url, method = "GET", headers = {}, body, connections, seconds, threads = 2, tmpDir, name }) {
  const script = path.join(tmpDir, `${name}.lua`);
  writeFileSync(
    script,
    [
      `wrk.method = "${method}"`,
      body !== undefined ? `wrk.body = ${luaString(body)}` : "",
      ...Object.entries(headers).map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`),
      `done = function(summary, latency, requests)`,
      `  local e = summary.errors`,
      `  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',`,
      `    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,`,
      `    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))`,
      `end`,
    ].join("\n"),
  );
  const out = await new Promise((resolve, reject) => {
    const p = spawn(bin, ["-t", String(Math.min(threads, connections)), "-c", String(connections), "-d", `${seconds}s`, "--timeout", "10s", "-s", script, url]);
    let text = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (text += d));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
  });
  const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk printed no summary:\n${out}`);
  const r = JSON.parse(line.slice(8));
  const errors = r.status + r.connect + r.read + r.write + r.timeout;
  const ok = r.requests - r.status - r.timeout;
  return {
    rps: ok / (r.duration_us / 1e6),
    p50_ms: r.p50_us / 1000,
    p90_ms: r.p90_us / 1000,
    p99_ms: r.p99_us / 1000,
    max_ms: r.max_us / 1000,
    requests: r.requests,
    ok,
    errors,
    non2xx: r.status,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request over a keep-alive pool (node:http, so a Host header can be set). */
export function request(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Sends `n` requests built by `make(i)` with `concurrency` in flight; returns per-request ms and failures. */
export async function sendN(n, concurrency, make) {
  let next = 0;
  const latencies = [];
  const failures = [];
  const started = performance.now();
  async function worker() {
    while (next < n) {
      const i = next++;
      const { url, init } = make(i);
      const t = performance.now();
      try {
        const res = await request(url, init);
        const text = res.text;
        if (res.status >= 300) failures.push(`${res.status} ${text.slice(0, 200)}`);
        else latencies.push(performance.now() - t);
      } catch (e) {
        failures.push(String(e));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { latencies, failures, ms: performance.now() - started };
}
