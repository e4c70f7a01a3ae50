// One Durable Object per workspace. Today it keeps the round-robin position, so every Worker
// instance takes turns in the same order; the rate-limit issue adds the workspace and user
// counters here. Until then its fetch() refuses clearly instead of pretending to limit.
import { DurableObject } from "cloudflare:workers";
import { RelayError } from "../core/errors";

export class WorkspaceLimiter extends DurableObject<Env> {
  /** Returns the current round-robin position and advances it (serialised by the object). */
  async nextRoundRobin(): Promise<number> {
    const position = (await this.ctx.storage.get<number>("rr")) ?? 0;
    await this.ctx.storage.put("rr", position + 1);
    return position;
  }

  override async fetch(): Promise<Response> {
    const err = new RelayError("not_implemented", "workspace rate limits are not implemented yet");
    return Response.json(err.toJSON(), { status: err.status });
  }
}

export const getWorkspaceLimiter = (env: Env, workspaceId: string) => env.WORKSPACE_LIMITER.getByName(workspaceId);
