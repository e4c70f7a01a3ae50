// One Durable Object for global limits, sharded. Declared now so the binding and its
// SQLite migration exist from the first deploy; the rate-limit issue fill it in. Until then every call
// fails loudly instead of pretending to enforce anything.
import { DurableObject } from "cloudflare:workers";
import { RelayError } from "../core/errors";

export class GlobalLimiter extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const err = new RelayError("not_implemented", "GlobalLimiter is not implemented yet");
    return Response.json(err.toJSON(), { status: err.status });
  }
}

export const getGlobalLimiter = (env: Env, id: string) => env.GLOBAL_LIMITER.getByName(id);
