// Row types of messages, their recipients and delivery attempts, shared by db/messages/*.
import type { deliveryAttempts, messageRecipients, messages } from "../schema";

export type MessageRow = typeof messages.$inferSelect;
export type MessageRecipientRow = typeof messageRecipients.$inferSelect;
export type DeliveryAttemptRow = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = typeof deliveryAttempts.$inferInsert;
