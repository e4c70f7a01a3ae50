// One Durable Object per provider (circuit breaker, provider quota, in-flight load). Declared now so the binding and its
// SQLite migration exist from the first deploy; the routing and rate-limit issues fill it in. Until then every call
// fails loudly instead of pretending to enforce anything.
import { DurableObject } from "cloudflare:workers";
import { RelayError } from "../core/errors";

export class ProviderState extends DurableObject<Env> {
  override async fetch(): Promise<Response> {
    const err = new RelayError("not_implemented", "ProviderState is not implemented yet");
    return Response.json(err.toJSON(), { status: err.status });
  }
}

export const getProviderState = (env: Env, id: string) => env.PROVIDER_STATE.getByName(id);
