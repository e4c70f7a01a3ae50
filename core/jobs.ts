// The delivery queue carries ids only; the message itself lives in the database.
import { z } from "@hono/zod-openapi";

export const deliveryJobSchema = z.object({
  v: z.literal(1),
  workspaceId: z.string().min(1),
  messageId: z.string().min(1),
  /**
   * The message's stored size, so the consumer can keep a batch within its memory budget before
   * loading anything (core/memory-budget.ts). Absent on jobs written before it existed.
   */
  bytes: z.number().int().nonnegative().optional(),
});

export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

export const deliveryJob = (workspaceId: string, messageId: string, bytes?: number): DeliveryJob =>
  bytes === undefined ? { v: 1, workspaceId, messageId } : { v: 1, workspaceId, messageId, bytes };
