// Accepts a message by calling the accept path directly (not over HTTP), with the bindings a test
// chooses: a D1 binding that records statements, or a queue that keeps the jobs instead of
// handing them to the background consumer.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { acceptStructured } from "../workers/accept";
import { normalizeMessage } from "../core/message-input";
import { getDb } from "../db/client";
import { openRelayStore } from "../workers/store";
import type { DeliveryJob } from "../core/jobs";
import { api, json, message, type TestWorkspace } from "./helpers";

/** A queue that keeps what is sent to it, and the list it keeps it in. */
export function capturingQueue(): { queue: Queue; jobs: DeliveryJob[] } {
  const jobs: DeliveryJob[] = [];
  return { jobs, queue: { send: async (body: DeliveryJob) => void jobs.push(body) } as unknown as Queue };
}

export async function acceptDirect(ws: TestWorkspace, extra: Record<string, unknown>, bindings: { DB?: D1Database; DELIVERY_QUEUE?: Queue } = {}) {
  const me = await json<{ key_id: string }>(await api("/v1/me", { key: ws.key }));
  const db = getDb(bindings.DB ?? env.DB);
  const store = openRelayStore(env, { db });
  const outcome = await acceptStructured(
    {
      env: { ...env, ...(bindings.DELIVERY_QUEUE ? { DELIVERY_QUEUE: bindings.DELIVERY_QUEUE } : {}) },
      store,
      principal: { kind: "api_key", workspaceId: ws.id, keyId: me.key_id, userId: null, scopes: ["admin"] },
      now: Date.now(),
    },
    normalizeMessage(message(ws, extra) as any, 1_000_000),
  ).finally(() => store.close());
  expect(outcome.status).toBe(202);
  return outcome;
}
