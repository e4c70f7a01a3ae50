// Durable Object inputs are a boundary like any other (DESIGN.md: zod validates every boundary):
// an RPC caller is another Worker, possibly of an older or newer version during a deploy, and a
// malformed argument must be refused with a message naming it, not turn into NaN in stored state.
// A refusal is a bug in the caller, so it is an internal error, not a value. Each method passes
// its arguments as one object ({ workspaceId, cfg, ... }), so the message names the argument.
import type { z } from "@hono/zod-openapi";
import { RelayError } from "./errors";

/** The parsed arguments, or a RelayError naming the method and the first bad field, e.g. "cfg.open_seconds". */
export function parseDoInput<S extends z.ZodType>(schema: S, args: unknown, method: string): z.output<S> {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.map(String).join(".") : "arguments";
  throw new RelayError("internal_error", `${method}: invalid ${where}: ${issue.message}`);
}
