// The LLM endpoint passed the outbound URL policy when it was saved; a redirect to a host the
// policy never saw (the cloud metadata address, say) is not followed.
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatCompletion } from "../workers/llm/client";

afterEach(() => vi.restoreAllMocks());

describe("LLM calls and redirects", () => {
  it("a 307 to another host is an error, and that host is never asked", async () => {
    const seen: { url: string; redirect: string | undefined }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      seen.push({ url, redirect: init?.redirect ?? (input instanceof Request ? input.redirect : undefined) });
      if (url.startsWith("http://169.254.169.254")) return new Response("{}", { status: 200 });
      return new Response(null, { status: 307, headers: { location: "http://169.254.169.254/latest/meta-data/" } });
    });
    const outcome = await chatCompletion({
      baseUrl: "https://llm.example.com/v1",
      apiKey: "sk-test",
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      maxOutputTokens: 10,
      maxTokensParam: "max_tokens",
      timeoutMs: 5000,
    });
    expect(outcome).toEqual({ kind: "error", status: 307 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ url: "https://llm.example.com/v1/chat/completions", redirect: "manual" });
  });
});
