// Reaching the Node simulators from code running inside workerd. The test pool's
// outboundService answers every outbound fetch() (loopback included) with 599, but TCP
// sockets from `cloudflare:sockets` do reach loopback, so this is a minimal HTTP/1.1 client
// over connect(): one request per connection, Connection: close. Use it as a fetch stand-in
// (ProviderContext.fetch, or vi.spyOn(globalThis, "fetch").mockImplementation(socketFetch)).
import { connect } from "cloudflare:sockets";
import type { Counts, FaultRule, Received, ReceivedKind } from "./index";

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function indexOfSeq(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function dechunk(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let i = 0;
  const dec = new TextDecoder();
  for (;;) {
    const eol = indexOfSeq(body, new Uint8Array([13, 10]), i);
    if (eol < 0) break;
    const size = parseInt(dec.decode(body.subarray(i, eol)), 16);
    if (!size) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return concat(parts);
}

export const socketFetch: typeof fetch = async (input, init) => {
  const req = new Request(input as RequestInfo, init);
  const signal = init?.signal ?? undefined;
  signal?.throwIfAborted();
  const url = new URL(req.url);
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : new Uint8Array(0);
  const sock = connect({ hostname: url.hostname, port: Number(url.port || "80") }, { allowHalfOpen: false });
  const abort = () => void sock.close().catch(() => undefined);
  signal?.addEventListener("abort", abort);
  try {
    let head = `${req.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\n`;
    req.headers.forEach((v, k) => {
      if (!["host", "connection", "content-length", "transfer-encoding"].includes(k)) head += `${k}: ${v}\r\n`;
    });
    if (body.length > 0 || !["GET", "HEAD"].includes(req.method)) head += `content-length: ${body.length}\r\n`;
    const writer = sock.writable.getWriter();
    await writer.write(concat([new TextEncoder().encode(head + "\r\n"), body]));
    writer.releaseLock();
    const reader = sock.readable.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const r = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener("abort", () => reject(signal.reason));
        }),
      ]);
      if (r.done) break;
      chunks.push(r.value as Uint8Array);
    }
    const all = concat(chunks);
    const split = indexOfSeq(all, CRLF2);
    if (split < 0) throw new TypeError("Network connection lost.");
    const [statusLine, ...headerLines] = new TextDecoder().decode(all.subarray(0, split)).split("\r\n");
    const status = Number(statusLine?.split(" ")[1]);
    const headers = new Headers();
    for (const l of headerLines) {
      const c = l.indexOf(":");
      if (c > 0) headers.append(l.slice(0, c).trim(), l.slice(c + 1).trim());
    }
    let payload = all.subarray(split + 4);
    if ((headers.get("transfer-encoding") ?? "").includes("chunked")) payload = dechunk(payload);
    headers.delete("transfer-encoding");
    return new Response(status === 204 || status === 304 ? null : payload, { status, headers });
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (e instanceof TypeError) throw e;
    throw new TypeError(`Network connection lost. (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    signal?.removeEventListener("abort", abort);
    void sock.close().catch(() => undefined);
  }
};

/** The control API of a running simulator, called from workerd. */
export function simulatorClient(httpUrl: string) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await socketFetch(`${httpUrl}/__sim${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
    });
    if (!res.ok) throw new Error(`simulator control ${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const q = (params: Record<string, string | undefined>) => {
    const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    return s ? `?${s}` : "";
  };
  return {
    addFault: (rule: FaultRule) => call<{ ids: number[] }>("POST", "/faults", rule),
    clearFaults: (scope?: string) => call("DELETE", `/faults${q({ scope })}`),
    received: <K extends ReceivedKind>(kind: K, scope?: string) => call<Extract<Received, { kind: K }>[]>("GET", `/received${q({ kind, scope })}`),
    counts: (scope?: string) => call<Counts>("GET", `/counts${q({ scope })}`),
    reset: (scope?: string) => call("POST", `/reset${q({ scope })}`),
    registerServiceAccount: (clientEmail: string, publicKeyPem: string) => call("POST", "/gmail/accounts", { clientEmail, publicKeyPem }),
    revokeGmailTokens: () => call("POST", "/gmail/revoke"),
  };
}
