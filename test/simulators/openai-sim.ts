// An OpenAI-compatible Chat Completions endpoint for the LLM personalization tests: it answers
// the relay's JSON-of-parts prompt with a recognizably "personalized" copy that keeps every
// placeholder and link, and (through a fault rule's `llm` mode) with the bad answers a real
// model can give. The HTTP side (routing, faults, recording, auth) is in http-sim.ts.

/** How a fault rule spoils the answer (status and latency faults work as for every target). */
export type LlmFaultMode = "drop_placeholder" | "add_link" | "not_json" | "too_long";

/** What the simulator prefixes to the text part, so tests can see the answer was used. */
export const PERSONALIZED_MARK = "[personalized]";

export interface ChatAnswer {
  status: number;
  body: unknown;
  model: string;
}

export function answerChat(raw: string, mode?: LlmFaultMode, usageTotalTokens?: number): ChatAnswer {
  let req: { model?: unknown; messages?: { role: string; content: string }[] };
  try {
    req = JSON.parse(raw) as typeof req;
  } catch {
    return { status: 400, body: { error: { message: "We could not parse the JSON body of your request.", type: "invalid_request_error" } }, model: "" };
  }
  const model = typeof req.model === "string" ? req.model : "";
  const messages = Array.isArray(req.messages) ? req.messages : [];
  if (!model || messages.length === 0) return { status: 400, body: { error: { message: "model and messages are required", type: "invalid_request_error" } }, model };
  const user = [...messages].reverse().find((m) => m.role === "user")?.content ?? "{}";
  let parts: Record<string, string> = {};
  try {
    parts = JSON.parse(user) as Record<string, string>;
  } catch {
    parts = { text: user };
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parts)) {
    out[k] = k === "subject" ? `${v} - for you` : k === "html" ? `<p>${PERSONALIZED_MARK}</p>${v}` : `${PERSONALIZED_MARK} ${v}`;
  }
  if (mode === "drop_placeholder") {
    const first = Object.values(out).join(" ").match(/\[\[[A-Z]+_\d+\]\]/)?.[0];
    if (first) for (const k of Object.keys(out)) out[k] = out[k]!.split(first).join("");
  }
  if (mode === "add_link" && out.text !== undefined) out.text += " Details: https://phish.example/login";
  if (mode === "too_long" && out.text !== undefined) out.text = out.text.repeat(20);
  const content = mode === "not_json" ? "I'm sorry, I can't help with personalizing this email." : JSON.stringify(out);
  const promptTokens = Math.ceil(messages.reduce((n, m) => n + String(m.content).length, 0) / 4);
  const completionTokens = Math.ceil(content.length / 4);
  const total = usageTotalTokens ?? promptTokens + completionTokens;
  return {
    status: 200,
    model,
    body: {
      id: `chatcmpl-${Math.random().toString(36).slice(2, 12)}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: promptTokens, completion_tokens: total - promptTokens, total_tokens: total },
    },
  };
}
