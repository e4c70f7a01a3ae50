// Shared test helpers: drive the Worker through its real fetch handler (SELF) and build a
// workspace the way an operator would: admin token → workspace → verified domain → key → provider.
import { SELF } from "cloudflare:test";
import { randomToken } from "../core/ids";

export const ADMIN = "test-admin-token";

export async function api(path: string, init: RequestInit & { key?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return SELF.fetch(`https://relay.test${path}`, { ...init, headers, body });
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export interface TestWorkspace {
  id: string;
  domain: string;
  /** Admin-scoped key (holds every scope). */
  key: string;
  providerId: string;
  keyWith(scopes: string[]): Promise<string>;
}

export async function createWorkspace(opts: { provider?: Record<string, unknown> | null } = {}): Promise<TestWorkspace> {
  const slug = `t-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, "x")}`;
  const ws = await json(await api("/v1/workspaces", { method: "POST", key: ADMIN, json: { slug, display_name: slug } }));
  const domain = `${slug}.example.org`;
  const dom = await api(`/v1/workspaces/${ws.id}/domains`, { method: "POST", key: ADMIN, json: { domain, verified: true } });
  if (dom.status !== 201) throw new Error(`domain: ${dom.status} ${await dom.text()}`);
  const keyWith = async (scopes: string[]) => {
    const res = await api(`/v1/workspaces/${ws.id}/api-keys`, { method: "POST", key: ADMIN, json: { name: scopes.join("+"), scopes } });
    return (await json(res)).key as string;
  };
  const key = await keyWith(["admin"]);
  let providerId = "";
  if (opts.provider !== null) {
    const res = await api("/v1/providers", {
      method: "POST",
      key,
      json: opts.provider ?? { name: "sandbox", type: "sandbox" },
    });
    if (res.status !== 201) throw new Error(`provider: ${res.status} ${await res.text()}`);
    providerId = (await json(res)).id;
  }
  return { id: ws.id, domain, key, providerId, keyWith };
}

export const message = (ws: TestWorkspace, extra: Record<string, unknown> = {}) => ({
  from: `Clinic <noreply@${ws.domain}>`,
  to: ["patient@example.net"],
  subject: "Your appointment",
  text: "See you on Tuesday.",
  ...extra,
});

/** Polls until the message reaches one of `statuses` (the real queue consumer runs in the background). */
export async function waitForStatus(ws: TestWorkspace, id: string, statuses: string[], timeoutMs = 8000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = await json(await api(`/v1/messages/${id}`, { key: ws.key }));
    if (statuses.includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${id} stayed ${last?.status}; wanted ${statuses.join("|")}`);
}
