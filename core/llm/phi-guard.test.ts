import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import { maskParts, placeholdersIn, restore } from "./phi-guard";
import { compilePhiPatterns, effectiveLlmSettings, llmSettingsSchema, phiPatternSchema, phiPatternsProblem, DEFAULT_LLM_SETTINGS, type PhiPattern } from "./settings";

// The engine is passed in (the Worker loads it lazily); tests pass the package's class.
const compiled = (patterns: PhiPattern[]) => {
  const c = compilePhiPatterns(RE2JS, patterns);
  if (!c.ok) throw new Error(`unusable: ${c.unusable.join(", ")}`);
  return c.res;
};

const mask1 = (text: string, opts = {}) => maskParts({ text }, opts);

describe("PHI guard: what is masked", () => {
  it("email addresses, including unicode and plus-addressing", () => {
    const m = mask1("Write to ann.archer+clinic@example.net or jörg@bücher.de today.");
    expect(m.parts.text).toBe("Write to [[EMAIL_1]] or [[EMAIL_2]] today.");
    expect(m.counts.email).toBe(2);
  });

  it.each([
    ["+1 (555) 123-4567"],
    ["(555) 123-4567"],
    ["555-123-4567"],
    ["555.123.4567"],
    ["+44 20 7946 0958"],
    ["0049 30 1234567"],
    ["+33 1 42 68 53 00"],
    ["+91-98765-43210"],
    ["555-123-4567 ext. 12"],
  ])("phone number %s", (phone) => {
    const m = mask1(`Call us at ${phone} if anything changes.`);
    expect(m.parts.text).toBe("Call us at [[PHONE_1]] if anything changes.");
    expect(m.values["[[PHONE_1]]"]).toBe(phone);
  });

  it("record numbers after a keyword, SSNs and letter-prefixed ids", () => {
    const m = mask1("MRN: 12345678. Patient ID A-77812, SSN 123-45-6789, chart # 99-1234, ref PT 4455667.");
    expect(m.parts.text).not.toMatch(/12345678|A-77812|123-45-6789|99-1234|4455667/);
    expect(m.parts.text).toMatch(/^MRN: \[\[ID_1\]\]\. Patient ID \[\[ID_2\]\]/);
  });

  it("dates of birth (near DOB/born) and dates in general, in several spellings", () => {
    const m = mask1("DOB: 03/14/1962. Born March 14, 1962. Seen on 2024-05-01 and 14 Mar 2024, again on Mar 3rd.");
    expect(m.parts.text).not.toMatch(/1962|03\/14|2024|Mar 3rd/);
    expect(m.counts.dob).toBe(2);
    expect(m.counts.date).toBe(3);
  });

  it("recipients' names as whole words, case-insensitively, full name before its parts", () => {
    const m = mask1("Dear Ann Archer, ANN will see Dr. Annabel about Archer's results.", { names: ["Ann Archer", "Ann", "Archer"] });
    expect(m.parts.text).toBe("Dear [[NAME_1]], [[NAME_2]] will see Dr. Annabel about [[NAME_3]]'s results.");
    expect(restore(m.parts.text!, m.values)).toBe("Dear Ann Archer, ANN will see Dr. Annabel about Archer's results.");
  });

  it("workspace patterns", () => {
    const m = mask1("Your claim CLM#88-A is approved.", { patterns: compiled([{ name: "claim", pattern: "CLM#\\d+-[A-Z]" }]) });
    expect(m.parts.text).toBe("Your claim [[ID_1]] is approved.");
    expect(m.counts.custom).toBe(1);
  });

  it("links and variables, so the model cannot change them (URL query strings carry identifiers)", () => {
    const m = maskParts({
      text: "Hi {{FIRST_NAME|there}}, book at https://clinic.example/book?patient=8812. <<TRENDING_QUESTION>>",
      html: '<p>Hi {{FIRST_NAME|there}}, <a href="/book?p=8812">book</a> <img src=\'cid:logo\'></p>',
    });
    expect(m.parts.text).toBe("Hi [[VAR_1]], book at [[LINK_2]]. [[VAR_3]]");
    expect(m.parts.html).toBe('<p>Hi [[VAR_1]], <a href="[[LINK_4]]">book</a> <img src=\'[[LINK_5]]\'></p>');
  });

  it("text that already looks like a placeholder is itself masked, so it cannot collide", () => {
    const m = mask1("Literal [[NAME_1]] and ann@example.net");
    expect(m.parts.text).toBe("Literal [[TOKEN_1]] and [[EMAIL_2]]");
    expect(restore(m.parts.text!, m.values)).toBe("Literal [[NAME_1]] and ann@example.net");
  });

  it("overlapping matches merge: nothing is left half-visible", () => {
    const m = mask1("Reach Ann at ann@example.net", { names: ["Ann"] });
    expect(m.parts.text).toBe("Reach [[NAME_1]] at [[EMAIL_2]]");
  });

  it("the same value gets the same placeholder across parts; numbering is stable", () => {
    const a = maskParts({ subject: "For ann@example.net", text: "ann@example.net, see you" });
    expect(a.parts).toEqual({ subject: "For [[EMAIL_1]]", text: "[[EMAIL_1]], see you" });
    const b = maskParts({ subject: "For bob@example.org", text: "bob@example.org, see you" });
    expect(b.parts).toEqual(a.parts);
  });

  it("ordinary prose is left alone", () => {
    const text = "Your flu shot is ready. Bring your card; it takes 10 minutes. Room 12, 2nd floor.";
    expect(mask1(text).parts.text).toBe(text);
  });

  it("restore puts every original back and leaves unknown placeholders untouched", () => {
    const m = mask1("Call 555-123-4567 or mail a@b.org");
    expect(placeholdersIn(m.parts.text!)).toEqual(new Set(["[[PHONE_1]]", "[[EMAIL_2]]"]));
    expect(restore("[[EMAIL_2]] / [[PHONE_1]] / [[NAME_9]]", m.values)).toBe("a@b.org / 555-123-4567 / [[NAME_9]]");
  });
});

describe("workspace patterns are validated", () => {
  // What is saved: the schema (no engine), then each pattern compiled on RE2 (the save routes).
  const bad = (pattern: string) => {
    const parsed = phiPatternSchema.safeParse({ name: "p", pattern });
    return parsed.success && phiPatternsProblem(RE2JS, [parsed.data]) === null;
  };

  it("refuses invalid, empty-matching and non-RE2 patterns; nested quantifiers are harmless on RE2", () => {
    expect(bad("(unclosed")).toBe(false);
    expect(bad("a*")).toBe(false);
    expect(bad("(a)\\1")).toBe(false);
    expect(bad("MRN(?=\\d)")).toBe(false);
    expect(bad("(a+)+$")).toBe(true);
    expect(bad("(x+){2,}")).toBe(true);
    expect(bad("MRN\\d{6,10}")).toBe(true);
    expect(bad("(?:CLM|CL)#\\d+")).toBe(true);
  });

  it("stored settings parse without the engine; what only the engine refuses turns personalization off at use", () => {
    // Lookaround and backreferences are visible without RE2: such stored settings do not parse.
    expect(phiPatternSchema.safeParse({ name: "p", pattern: "MRN(?=\\d)" }).success).toBe(false);
    expect(phiPatternSchema.safeParse({ name: "p", pattern: "(a)\\1" }).success).toBe(false);
    // The rest parses; compiling it is what refuses it.
    const stored = llmSettingsSchema.parse({ enabled: true, phi_patterns: [{ name: "ok", pattern: "x\\d" }, { name: "huge", pattern: "[\\p{L}]{1000}" }, { name: "empty", pattern: "a*" }] });
    expect(phiPatternsProblem(RE2JS, stored.phi_patterns)).toMatchObject({ path: "phi_patterns.1.pattern", message: expect.stringMatching(/too complex/) });
    expect(compilePhiPatterns(RE2JS, stored.phi_patterns)).toEqual({ ok: false, unusable: ["huge", "empty"] });
    expect(effectiveLlmSettings(RE2JS, stored)).toEqual(DEFAULT_LLM_SETTINGS);
    const fine = { ...stored, phi_patterns: stored.phi_patterns.slice(0, 1) };
    expect(effectiveLlmSettings(RE2JS, fine)).toBe(fine);
  });

  it("bounds the number and length of patterns, and only https (or loopback http) endpoints", () => {
    expect(llmSettingsSchema.safeParse({ phi_patterns: Array.from({ length: 21 }, (_, i) => ({ name: `p${i}`, pattern: "x\\d" })) }).success).toBe(false);
    expect(phiPatternSchema.safeParse({ name: "p", pattern: "x".repeat(201) }).success).toBe(false);
    expect(llmSettingsSchema.safeParse({ base_url: "http://llm.example.com/v1" }).success).toBe(false);
    expect(llmSettingsSchema.safeParse({ base_url: "http://127.0.0.1:8080/v1" }).success).toBe(true);
    expect(llmSettingsSchema.safeParse({ timeout_ms: 60_000 }).success).toBe(false);
  });

  it("is off by default", () => {
    expect(llmSettingsSchema.parse({})).toMatchObject({ enabled: false, baa_covered: false, phi_patterns: [] });
  });
});
