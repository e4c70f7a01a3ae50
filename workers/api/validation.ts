import type { Hook } from "@hono/zod-openapi";
import { RelayError } from "../../core/errors";
import type { AppEnv } from "./context";

/** Turns a zod failure into the one error model, naming the first offending field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.join(".") : result.target;
    throw new RelayError("validation_error", `${field}: ${issue?.message ?? "invalid"}`);
  }
};
