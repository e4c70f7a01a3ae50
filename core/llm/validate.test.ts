import { describe, expect, it } from "vitest";
import { maskParts, restore } from "./phi-guard";
import { buildMessages, contentHash, parseAnswer } from "./prompt";
import { ineligible } from "./record";
import { DEFAULT_LLM_SETTINGS } from "./settings";
import { linksPreserved, validateAnswer } from "./validate";

const bounds = { minRatio: 0.3, maxRatio: 3 };
const input = maskParts({
  subject: "Your visit, {{FIRST_NAME}}",
  text: "Hi {{FIRST_NAME}}, your results are ready at https://portal.example/r/8812. Questions: 555-123-4567.",
});

describe("LLM answer validation", () => {
  const good = {
    subject: "A note about your visit, [[VAR_1]]",
    text: "Hello [[VAR_1]]! Good news: your results are ready at [[LINK_2]]. Any questions, call [[PHONE_3]].",
  };

  it("accepts an answer that keeps every placeholder and link", () => {
    expect(validateAnswer(input.parts, good, input.values, bounds)).toBeNull();
    const restored = Object.fromEntries(Object.entries(good).map(([k, v]) => [k, restore(v, input.values)]));
    expect(restored.text).toContain("https://portal.example/r/8812");
    expect(linksPreserved({ text: "Hi {{FIRST_NAME}}, your results are ready at https://portal.example/r/8812. Questions: 555-123-4567." }, { text: restored.text! })).toBe(true);
  });

  it.each([
    ["a dropped placeholder", { ...good, text: "Hello [[VAR_1]]! Your results are ready at [[LINK_2]]." }, "placeholder_missing"],
    ["an invented placeholder", { ...good, text: good.text + " [[NAME_7]]" }, "placeholder_unknown"],
    ["an added link", { ...good, text: good.text + " More: https://evil.example/x" }, "link_changed"],
    ["a missing part", { subject: good.subject }, "parts_mismatch"],
    ["an extra part", { ...good, html: "<p>x</p>" }, "parts_mismatch"],
    ["an empty part", { ...good, subject: "  " }, "empty"],
    ["a subject with a line break", { ...good, subject: "Visit\r\nBcc: x@y.z [[VAR_1]]" }, "subject_line_break"],
    ["a far too long answer", { ...good, text: good.text + " blah".repeat(200) }, "too_long"],
    ["a far too short answer", { ...good, text: "Hi [[VAR_1]]" }, "too_short"],
  ])("refuses %s", (_name, output, problem) => {
    expect(validateAnswer(input.parts, output as Record<string, string>, input.values, bounds)).toBe(problem);
  });

  it("refuses active HTML the author did not write", () => {
    const html = maskParts({ html: "<p>Hi, see <a href=\"https://x.example\">this</a></p>" });
    expect(validateAnswer(html.parts, { html: '<p>Hi!</p><p>See <a href="[[LINK_1]]">this</a></p>' }, html.values, bounds)).toBeNull();
    expect(validateAnswer(html.parts, { html: '<p>Hi, see <a href="[[LINK_1]]" onclick="x()">this</a></p>' }, html.values, bounds)).toBe("active_content");
    expect(validateAnswer(html.parts, { html: '<p>Hi, see <a href="[[LINK_1]]">this</a><script>x()</script></p>' }, html.values, bounds)).toBe("active_content");
  });
});

describe("prompt and answer", () => {
  it("sends the instructions and the masked parts, nothing else", () => {
    const msgs = buildMessages("Be warm.", input.parts);
    expect(msgs.map((m) => m.role)).toEqual(["system", "system", "user"]);
    expect(JSON.parse(msgs[2]!.content)).toEqual(input.parts);
    expect(JSON.stringify(msgs)).not.toMatch(/8812|555-123/);
  });

  it("parses a JSON answer, with or without a code fence; refuses anything else", () => {
    expect(parseAnswer('{"subject":"a","text":"b"}')).toEqual({ subject: "a", text: "b" });
    expect(parseAnswer('```json\n{"subject":"a"}\n```')).toEqual({ subject: "a" });
    expect(parseAnswer("Sure! Here it is: {\"subject\":\"a\"}")).toEqual({ subject: "a" });
    expect(parseAnswer("I cannot do that.")).toBeNull();
    expect(parseAnswer('{"subject": 3}')).toBeNull();
    expect(parseAnswer("[1,2]")).toBeNull();
  });

  it("the cache key depends on model, instructions and masked content only", async () => {
    const a = await contentHash("https://x/v1", "m", "Be warm.", input.parts);
    const other = maskParts({
      subject: "Your visit, {{FIRST_NAME}}",
      text: "Hi {{FIRST_NAME}}, your results are ready at https://portal.example/r/9999. Questions: 555-987-6543.",
    });
    expect(await contentHash("https://x/v1", "m", "Be warm.", other.parts)).toBe(a);
    expect(await contentHash("https://x/v1", "m2", "Be warm.", input.parts)).not.toBe(a);
    expect(await contentHash("https://x/v1", "m", "Be brief.", input.parts)).not.toBe(a);
  });
});

describe("eligibility", () => {
  const on = { ...DEFAULT_LLM_SETTINGS, enabled: true };
  const base = { settings: on, phi: false, hasApiKey: true, structured: true, inputChars: 100 };

  it("off by default; PHI needs a BAA declaration; a key; structured content within bounds", () => {
    expect(ineligible({ ...base, settings: DEFAULT_LLM_SETTINGS })).toBe("workspace_disabled");
    expect(ineligible(base)).toBeNull();
    expect(ineligible({ ...base, phi: true })).toBe("phi_without_baa");
    expect(ineligible({ ...base, phi: true, settings: { ...on, baa_covered: true } })).toBeNull();
    expect(ineligible({ ...base, hasApiKey: false })).toBe("no_api_key");
    expect(ineligible({ ...base, structured: false })).toBe("raw_content");
    expect(ineligible({ ...base, inputChars: on.max_input_chars + 1 })).toBe("content_too_large");
  });
});
