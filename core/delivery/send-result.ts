// What a provider call comes to, as the provider classifies it (workers/dispatcher/providers/
// types.ts: a provider never throws for an expected outcome). Three values, so delivery can decide
// between "done", "try again later or elsewhere" and "give up on this recipient".
export type SendResult =
  | { status: "sent"; providerMessageId: string }
  | { status: "transient"; reason: string; retryAfterMs?: number }
  | {
      status: "permanent";
      reason: string;
      /**
       * Present when the provider names which recipients failed; absent means all failed.
       * The recipients NOT listed were accepted by the provider when `providerMessageId` is
       * set (a partial success); without it nothing was sent and the pipeline sends to them
       * again at once, without the failed ones.
       */
      recipients?: { email: string; reason: string }[];
      providerMessageId?: string;
      /** True when the failure is the provider's configuration (bad credentials, domain), not the message. */
      configuration?: boolean;
    };
