// /metrics: parsed with a strict Prometheus text-format (0.0.4) parser written here, then its
// counters are compared with what this test sent. /ready checks D1 and the queue.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface ParsedFamily {
  type: string;
  help: string | null;
  series: Series[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, line: number): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(src: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 0;
  for (;;) {
    while (src[i] === " ") i++;
    if (src[i] === "}") return { labels, rest: src.slice(i + 1) };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(src.slice(i));
    if (!m) throw new Error(`line ${line}: bad label name at ${src.slice(i, i + 10)}`);
    const name = m[0];
    i += name.length;
    if (src[i] !== "=" || src[i + 1] !== '"') throw new Error(`line ${line}: expected ="`);
    i += 2;
    let value = "";
    for (;;) {
      const ch = src[i++];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '"') break;
      if (ch === "\\") {
        const esc = src[i++];
        if (esc === "n") value += "\n";
        else if (esc === "\\" || esc === '"') value += esc;
        else throw new Error(`line ${line}: bad escape \\${esc}`);
      } else if (ch === "\n") throw new Error(`line ${line}: raw newline in label value`);
      else value += ch;
    }
    if (name in labels) throw new Error(`line ${line}: duplicate label ${name}`);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${name}`);
    labels[name] = value;
    if (src[i] === ",") i++;
    else if (src[i] !== "}") throw new Error(`line ${line}: expected , or }`);
  }
}

/** A strict parser: throws on anything the text format does not allow. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, ParsedFamily>();
  const seen = new Set<string>();
  let current: string | null = null;
  const familyOf = (sample: string): string | null => {
    if (families.has(sample)) return sample;
    for (const suffix of ["_bucket", "_sum", "_count"]) {
      const base = sample.slice(0, -suffix.length);
      if (sample.endsWith(suffix) && families.get(base)?.type === "histogram") return base;
    }
    return null;
  };
  text
    .slice(0, -1)
    .split("\n")
    .forEach((raw, idx) => {
      const line = idx + 1;
      if (raw.trim() === "") return;
      if (raw.startsWith("#")) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
        if (!m) return; // a plain comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
        const fam = families.get(name) ?? { type: "untyped", help: null, series: [] };
        if (kind === "TYPE") {
          if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type ${rest}`);
          if (families.has(name) && families.get(name)!.series.length > 0) throw new Error(`line ${line}: TYPE after samples of ${name}`);
          if (families.get(name)?.type !== undefined && families.get(name)!.type !== "untyped") throw new Error(`line ${line}: second TYPE for ${name}`);
          fam.type = rest;
        } else {
          if (fam.help !== null) throw new Error(`line ${line}: second HELP for ${name}`);
          fam.help = rest;
        }
        families.set(name, fam);
        current = name;
        return;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(raw);
      if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
      const name = m[1]!;
      let rest = m[2]!;
      let labels: Record<string, string> = {};
      if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest.slice(1), line));
      const parts = rest.trim().split(/ +/);
      if (!rest.startsWith(" ") || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: expected ' value [timestamp]'`);
      const value = parseValue(parts[0]!, line);
      if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp`);
      const fam = familyOf(name);
      if (!fam) throw new Error(`line ${line}: sample ${name} has no TYPE`);
      if (fam !== current) throw new Error(`line ${line}: samples of ${fam} are not grouped together`);
      const key = name + JSON.stringify(Object.entries(labels).sort());
      if (seen.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
      seen.add(key);
      const f = families.get(fam)!;
      if (f.type === "counter" && value < 0) throw new Error(`line ${line}: negative counter`);
      f.series.push({ name, labels, value });
    });
  // Histograms: cumulative buckets ending in +Inf equal to _count.
  for (const [name, f] of families) {
    if (f.type !== "histogram") continue;
    const groups = new Map<string, Series[]>();
    for (const s of f.series) {
      const { le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const group of groups.values()) {
      const buckets = group.filter((s) => s.name === `${name}_bucket`).map((s) => ({ le: parseValue(s.labels["le"]!, 0), v: s.value }));
      const count = group.find((s) => s.name === `${name}_count`)?.value;
      if (buckets.length === 0 || buckets[buckets.length - 1]!.le !== Infinity) throw new Error(`${name}: no +Inf bucket`);
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.le <= buckets[i - 1]!.le || buckets[i]!.v < buckets[i - 1]!.v) throw new Error(`${name}: buckets not cumulative`);
      }
      if (count !== buckets[buckets.length - 1]!.v) throw new Error(`${name}: _count differs from the +Inf bucket`);
      if (!group.some((s) => s.name === `${name}_sum`)) throw new Error(`${name}: no _sum`);
    }
  }
  return families;
}

const value = (fams: Map<string, ParsedFamily>, name: string, labels: Record<string, string>) =>
  [...fams.values()]
    .flatMap((f) => f.series)
    .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe("/metrics", async () => {
  const ws = await createWorkspace();

  it("the parser is strict (it rejects malformed exposition)", () => {
    for (const bad of [
      "x 1\n",
      "# TYPE x counter\nx{a=\"1\" 1\n",
      "# TYPE x counter\nx 1",
      "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
      "# TYPE x counter\nx abc\n",
      "# TYPE x histogram\nx_bucket{le=\"1\"} 2\nx_bucket{le=\"+Inf\"} 1\nx_sum 1\nx_count 1\n",
      "# TYPE x wat\n",
    ]) {
      expect(() => parseExposition(bad), bad).toThrow();
    }
    expect(parseExposition('# HELP x a \\\\ b\n# TYPE x gauge\nx{a="q\\"\\n"} 1.5e3\n').get("x")!.series[0]).toMatchObject({ value: 1500, labels: { a: 'q"\n' } });
  });

  it("needs the METRICS_TOKEN", async () => {
    expect((await api("/metrics")).status).toBe(401);
    expect((await api("/metrics", { key: "wrong-token" })).status).toBe(403);
    expect((await api("/metrics", { key: ws.key })).status).toBe(403);
  });

  it("parses as Prometheus text format and its counters match the messages sent", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws, { to: ["a@example.net", "b@example.net"] }) });
      ids.push((await json(res)).id);
    }
    for (const id of ids) await waitForStatus(ws, id, ["sent"]);
    let attempts = 0;
    for (const id of ids) attempts += (await json(await api(`/v1/messages/${id}`, { key: ws.key }))).attempts.filter((a: any) => a.outcome === "sent").length;

    const res = await api("/metrics", { key: "test-metrics-token" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const fams = parseExposition(await res.text());

    expect(fams.get("relay_messages_accepted_total")!.type).toBe("counter");
    expect(value(fams, "relay_messages_accepted_total", { workspace: ws.id })).toBe(3);
    expect(value(fams, "relay_recipients", { workspace: ws.id, provider: ws.providerId, status: "sent" })).toBe(6);
    expect(value(fams, "relay_delivery_attempts_total", { workspace: ws.id, provider: ws.providerId, outcome: "sent" })).toBe(attempts);
    expect(fams.get("relay_provider_latency_seconds")!.type).toBe("histogram");
    expect(value(fams, "relay_provider_latency_seconds_count", { workspace: ws.id, provider: ws.providerId })).toBe(attempts);
    expect(value(fams, "relay_provider_latency_seconds_bucket", { workspace: ws.id, provider: ws.providerId, le: "+Inf" })).toBe(attempts);
    expect(fams.get("relay_queue_lag_seconds")!.series).toHaveLength(1);

    // One more send moves the counter by exactly one.
    const more = await json(await api("/v1/messages", { method: "POST", key: ws.key, json: message(ws) }));
    await waitForStatus(ws, more.id, ["sent"]);
    const after = parseExposition(await (await api("/metrics", { key: "test-metrics-token" })).text());
    expect(value(after, "relay_messages_accepted_total", { workspace: ws.id })).toBe(4);
    expect(value(after, "relay_recipients", { workspace: ws.id, provider: ws.providerId, status: "sent" })).toBe(7);
  });

  it("a provider whose breaker never moved has its closed breaker in relay_circuit_breaker_state, as the API reports it", async () => {
    const fresh = await createWorkspace();
    const fams = parseExposition(await (await api("/metrics", { key: "test-metrics-token" })).text());
    const mine = fams.get("relay_circuit_breaker_state")!.series.filter((x) => x.labels.workspace === fresh.id);
    expect(mine).toEqual([{ name: "relay_circuit_breaker_state", labels: { workspace: fresh.id, provider: fresh.providerId, state: "closed" }, value: 1 }]);
  });
});

describe("/health and /ready", () => {
  it("liveness and readiness answer without a credential", async () => {
    expect(await json(await api("/health"))).toEqual({ status: "ok" });
    const ready = await api("/ready");
    expect(ready.status).toBe(200);
    // The database check is named after the configured store (this file runs on D1 and on MySQL).
    const store = (env as { STORE?: string }).STORE ?? "d1";
    expect(await json(ready)).toEqual({ status: "ready", checks: { [store]: "ok", queue: "ok" }, providers: { open_breakers: 0 } });
  });
});
