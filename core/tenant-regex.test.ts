import { describe, expect, it } from "vitest";
import { compileTenantPattern, tenantMatches, tenantPatternProblem } from "./tenant-regex";

describe("tenant patterns run on RE2", () => {
  it("a catastrophic-backtracking pattern answers (no match) over a 100 KB input", () => {
    const c = compileTenantPattern({ pattern: "(a+)+$" });
    expect(c.ok).toBe(true);
    // On V8 this input takes longer than the age of the universe; RE2 is linear in it.
    expect(c.ok && c.re.test(`${"a".repeat(100_000)}!`)).toBe(false);
    expect(c.ok && c.re.test("aaaa")).toBe(true);
  });

  it("refuses backreferences and lookaround with the reason, and other syntax RE2 lacks", () => {
    expect(tenantPatternProblem({ pattern: "(a)\\1" })).toMatch(/backreferences/);
    expect(tenantPatternProblem({ pattern: "(?<n>a)\\k<n>" })).toMatch(/backreferences/);
    expect(tenantPatternProblem({ pattern: "MRN(?=\\d)" })).toMatch(/lookahead and lookbehind/);
    expect(tenantPatternProblem({ pattern: "(?<!x)MRN" })).toMatch(/lookahead and lookbehind/);
    expect(tenantPatternProblem({ pattern: "(unclosed" })).toMatch(/RE2/);
    expect(tenantPatternProblem({ pattern: "[\\p{L}]{1000}" })).toMatch(/too complex/);
    expect(tenantPatternProblem({ pattern: "x", flags: "g" })).toMatch(/flag/);
    // An escaped paren or a class is not lookaround or a backreference.
    expect(tenantPatternProblem({ pattern: "\\(\\?=[\\1]" })).not.toMatch(/lookahead|backreferences/);
  });

  it("accepts ordinary DLP syntax and honours the i flag", () => {
    expect(tenantPatternProblem({ pattern: "\\bMRN[- ]?\\d{6,10}\\b" })).toBeNull();
    const c = compileTenantPattern({ pattern: "mrn\\d+", flags: "i" });
    expect(c.ok && c.re.test("see MRN123")).toBe(true);
  });

  it("reports match offsets in UTF-16 units, so masking lines up with the text", () => {
    const c = compileTenantPattern({ pattern: "CL\\d+" });
    const text = "Zoë 🙂 CL123 and CL9";
    const spans = c.ok ? [...tenantMatches(c.re, text)] : [];
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(["CL123", "CL9"]);
  });
});
