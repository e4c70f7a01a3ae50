// email(): Email Routing's entry point. Submission by email and bounce (DSN) processing are the
// inbound-mail issue's work; until then every message is refused with a clear reason, never
// silently dropped (Email Routing returns the reason to the sending server).
export async function handleEmail(message: ForwardableEmailMessage, _env: Env): Promise<void> {
  message.setReject("550 5.7.1 inbound mail is not accepted by this relay yet");
}
