import { Hono } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RelayError } from "../../../core/errors";
import type { AppEnv } from "../context";
import { errorHandler } from "./error-handler";

function appThrowing(err: Error) {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("requestId", "req-1");
    await next();
  });
  app.get("/", () => {
    throw err;
  });
  app.onError(errorHandler);
  return app;
}

const logged = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.map((args) => JSON.parse(String(args[0])) as Record<string, unknown>);

describe("error handler", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a 5xx's cause (its safe message) and never sends it to the client", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const cause = new Error("D1_ERROR: no such table: widgets");
    const res = await appThrowing(new RelayError("unavailable", "try again", {}, { cause })).request("/", {}, {});
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "unavailable", message: "try again" } });
    const line = logged(errors).find((l) => l.event === "request_failed");
    expect(line?.cause).toBe("Error: D1_ERROR: no such table: widgets");
  });

  it("does not log the cause of a refusal (4xx)", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await appThrowing(new RelayError("validation_error", "bad", {}, { cause: new Error("detail") })).request("/", {}, {});
    expect(res.status).toBe(400);
    expect(errors).not.toHaveBeenCalled();
  });
});
