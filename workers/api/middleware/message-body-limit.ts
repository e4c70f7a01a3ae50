// Refuses oversize message bodies before reading them. JSON carries attachments as base64 (4/3
// of the bytes) plus field overhead, so the raw limit is scaled; the exact check on the decoded
// message follows in the handler.
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { readConfig } from "../../../core/config";
import { RelayError } from "../../../core/errors";
import type { AppEnv } from "../context";

export const messageBodyLimit = createMiddleware<AppEnv>(async (c, next) => {
  const max = Math.ceil(readConfig(c.env).maxMessageBytes * 1.4) + 64 * 1024;
  return bodyLimit({
    maxSize: max,
    onError: () => {
      throw new RelayError("message_too_large", `request body exceeds ${max} bytes`);
    },
  })(c, next);
});
