// A client that goes away mid-upload (the SMTP bridge, when its own client disconnects in DATA)
// is not a server fault. Raw uploads are read through this guard, which turns a failed read of
// the request body into UploadAborted; onError logs that as `upload_aborted` (info) and answers
// 400, which nobody is left to read, instead of an unhandled 500. Only raw MIME uploads are
// wrapped: they are the streamed ones, and JSON sends keep their unwrapped body on the hot path.
import { createMiddleware } from "hono/factory";
import { RelayError } from "../../../core/errors";
import type { AppEnv } from "../context";

export class UploadAborted extends RelayError {
  constructor() {
    super("validation_error", "the request body ended before it was complete (upload aborted)");
  }
}

export const uploadGuard = createMiddleware<AppEnv>(async (c, next) => {
  const body = c.req.raw.body;
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (body && type === "message/rfc822") {
    const reader = body.getReader();
    const guarded = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch {
          controller.error(new UploadAborted());
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    c.req.raw = new Request(c.req.raw, { body: guarded, duplex: "half" } as RequestInit);
  }
  await next();
});
