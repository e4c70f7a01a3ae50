import { RE2JS } from "re2js";
import { describe, expect, it } from "vitest";
import { compileTenantPattern as compileOn, tenantMatches, tenantPatternProblem as problemOn, tenantPatternSyntaxProblem, type TenantPattern } from "./tenant-regex";

// The engine is passed in (the Worker loads it lazily); tests pass the package's class.
const compileTenantPattern = (p: TenantPattern) => compileOn(RE2JS, p);
const tenantPatternProblem = (p: TenantPattern) => problemOn(RE2JS, p);

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

  it("the engine-free check refuses what it names, with the engine's reason", () => {
    for (const pattern of ["(a)\\1", "(?<n>a)\\k<n>", "MRN(?=\\d)", "(?<!x)MRN", "x\\8"]) {
      expect(tenantPatternSyntaxProblem({ pattern })).toBe(tenantPatternProblem({ pattern }));
    }
    expect(tenantPatternSyntaxProblem({ pattern: "x", flags: "g" })).toMatch(/flag/);
    // What it cannot see it leaves to the engine (checked at save time and at use).
    expect(tenantPatternSyntaxProblem({ pattern: "(unclosed" })).toBeNull();
    expect(tenantPatternSyntaxProblem({ pattern: "[\\p{L}]{1000}" })).toBeNull();
  });

  it("the engine-free check is sound: whatever it refuses, RE2 refuses too (it parses stored settings)", () => {
    // Literal look-alikes RE2 accepts: an octal escape, \Q…\E, a leading ']' and [:name:] in a class.
    for (const pattern of ["\\12", "\\Q(?=\\1\\E", "\\Q(?=", "[](?=]", "[^](?=]", "[[:alpha:](?=]", "[\\](?=]", "\\(?=", "(?i)x", "(?P<n>a)"]) {
      expect(compileOn(RE2JS, { pattern }).ok, pattern).toBe(true);
      expect(tenantPatternSyntaxProblem({ pattern }), pattern).toBeNull();
    }
    // Random patterns over the characters that matter: a verdict must always agree with RE2.
    const alphabet = ["\\", "(", "?", "=", "!", "<", "[", "]", "^", ":", "Q", "E", "k", "1", "2", "8", "a", ")"];
    let seed = 42;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), (seed >>> 8) % n);
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const pattern = Array.from({ length: 1 + rand(10) }, () => alphabet[rand(alphabet.length)]).join("");
      if (tenantPatternSyntaxProblem({ pattern }) === null) continue;
      refused++;
      expect(compileOn(RE2JS, { pattern }).ok, pattern).toBe(false);
    }
    expect(refused).toBeGreaterThan(500);
  });
});
