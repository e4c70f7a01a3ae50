// One Durable Object per workspace (workspace and user counters). Declared now so the binding and its
// SQLite migration exist from the first deploy; the rate-limit issue fill it in. Until then every call
// fails loudly instead of pretending to enforce anything.
import { DurableObject } from "cloudflare:workers";
import { RelayError } from "../core/errors";

export class WorkspaceLimiter extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const err = new RelayError("not_implemented", "WorkspaceLimiter is not implemented yet");
    return Response.json(err.toJSON(), { status: err.status });
  }
}

export const getWorkspaceLimiter = (env: Env, id: string) => env.WORKSPACE_LIMITER.getByName(id);
