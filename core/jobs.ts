// The delivery queue carries ids only; the message itself lives in the database.
import { z } from "@hono/zod-openapi";

export const deliveryJobSchema = z.object({
  v: z.literal(1),
  workspaceId: z.string().min(1),
  messageId: z.string().min(1),
});

export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

export const deliveryJob = (workspaceId: string, messageId: string): DeliveryJob => ({ v: 1, workspaceId, messageId });
