// One Chat Completions call through the `openai` package, against the workspace's endpoint.
// The package is imported on first use, so isolates that never personalize never evaluate it.
// The deadline is enforced three times over: the SDK's own `timeout`, an AbortSignal, and a
// race against a timer that answers "timeout" even if the first two were ignored. No retries
// (a retry would double the wait a delivery is held for), and the SDK logs nothing.
import type { ChatMessage } from "../../core/llm/prompt";
import { loadOpenAI } from "../lazy-libs";

export interface ChatRequest {
  baseUrl: string;
  apiKey: string;
  model: string;
  messages: ChatMessage[];
  maxOutputTokens: number;
  maxTokensParam: "max_tokens" | "max_completion_tokens";
  timeoutMs: number;
}

export type ChatOutcome =
  | { kind: "ok"; answer: string; totalTokens: number | null }
  | { kind: "timeout" }
  | { kind: "error"; status: number | null };

export async function chatCompletion(req: ChatRequest): Promise<ChatOutcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<ChatOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ kind: "timeout" });
    }, req.timeoutMs);
  });
  const call = (async (): Promise<ChatOutcome> => {
    // Loaded on first use from its own module (core/lazy-libs.ts): most isolates never need it.
    const { OpenAI, errors } = await loadOpenAI();
    try {
      const client = new OpenAI({
        apiKey: req.apiKey,
        baseURL: req.baseUrl,
        organization: null,
        project: null,
        maxRetries: 0,
        timeout: req.timeoutMs,
        logLevel: "off",
        // Called unbound: workerd refuses a fetch that lost its `this`. A redirect is never
        // followed: the base URL passed the outbound URL policy (core/url-policy.ts), the host a
        // 3xx names did not, so the answer counts as an error.
        fetch: (input, init) => fetch(input, { ...init, redirect: "manual" }),
      });
      const res = await client.chat.completions.create(
        { model: req.model, messages: req.messages, [req.maxTokensParam]: req.maxOutputTokens, stream: false },
        { signal: controller.signal, timeout: req.timeoutMs, maxRetries: 0 },
      );
      return { kind: "ok", answer: res.choices[0]?.message?.content ?? "", totalTokens: res.usage?.total_tokens ?? null };
    } catch (e) {
      if (controller.signal.aborted || e instanceof errors.APIConnectionTimeoutError || e instanceof errors.APIUserAbortError) return { kind: "timeout" };
      // Only the status is kept: an error body may quote the request.
      return { kind: "error", status: e instanceof errors.APIError && typeof e.status === "number" ? e.status : null };
    }
  })();
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
