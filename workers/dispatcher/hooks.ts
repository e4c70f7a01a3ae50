// What a hook after a delivery record is given (workers/dispatcher/after-record.ts runs them).
// Apart from the runner, so a hook can name these types without importing the list of hooks.
import type { Store } from "../../db/store/store";
import type { MessageStatus, RecipientStatus } from "../../core/status";

export interface RecordedOutcome {
  workspaceId: string;
  messageId: string;
  /** The id of the request that accepted the message, carried into logs and webhooks. */
  requestId: string | null;
  /** The message's status after this record. */
  status: MessageStatus;
  at: number;
  providerId: string | null;
  recipients: {
    id: string;
    email: string;
    status: RecipientStatus;
    providerId: string | null;
    providerMessageId: string | null;
    reason: string | null;
  }[];
}

export interface HookContext {
  env: Env;
  /** The batch's store (workers/dispatcher/batch-context.ts). */
  store: Store;
}

export type AfterRecordHook = (ctx: HookContext, outcome: RecordedOutcome) => Promise<void>;
