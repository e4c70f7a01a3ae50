import { describe, expect, it } from "vitest";
import { recipientVariables, renderTemplate, unknownVariables, usesVariables, variablesIn } from "./variables";

describe("template variables", () => {
  const sources = {
    recipient: recipientVariables({ firstName: "Ann", lastName: null, fields: { clinic: "North", plan: "" } }),
    message: { FIRST_NAME: "Msg", LAST_NAME: "Lee", clinic: "Msg clinic", visit: "Tuesday", count: 3 },
    workspace: { visit: "Monday", org: "Acme Health", LAST_NAME: "Ws" },
  };

  it("finds tags, with and without defaults and spacing", () => {
    expect(variablesIn("Hi {{FIRST_NAME|there}}, {{ clinic }} {{x}}{{x|y}}")).toEqual([
      { name: "FIRST_NAME", hasDefault: true },
      { name: "clinic", hasDefault: false },
      { name: "x", hasDefault: false },
    ]);
    expect(usesVariables("no tags { {x} } {{ }} {{1abc}}")).toBe(false);
    expect(usesVariables(undefined, "a {{b}}")).toBe(true);
  });

  it("precedence: recipient > message > workspace > default", () => {
    expect(renderTemplate("{{FIRST_NAME}}|{{LAST_NAME}}|{{clinic}}|{{visit}}|{{org}}|{{nope|fallback}}|{{count}}", sources, "text")).toBe(
      "Ann|Lee|North|Tuesday|Acme Health|fallback|3",
    );
    // An empty recipient field falls through; so does a missing name.
    expect(renderTemplate("{{plan|basic}} {{FIRST_NAME|there}}", { recipient: { plan: "" } }, "text")).toBe(" there");
    expect(renderTemplate("{{plan|basic}} {{FIRST_NAME|there}}", { recipient: recipientVariables({ firstName: null, lastName: null, fields: { plan: "" } }) }, "text")).toBe(
      "basic there",
    );
    expect(renderTemplate("Hi {{unknown}}!", {}, "text")).toBe("Hi !");
  });

  it("does not resolve inherited properties", () => {
    expect(renderTemplate("{{constructor|x}}{{toString}}", { message: {} }, "text")).toBe("x");
  });

  it("HTML-escapes values in HTML parts but not in text", () => {
    const s = { recipient: { FIRST_NAME: `<script>alert("x")</script> & 'co'` } };
    expect(renderTemplate("<p>Hi {{FIRST_NAME}}</p>", s, "html")).toBe("<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>");
    expect(renderTemplate("Hi {{FIRST_NAME}}", s, "text")).toBe(`Hi <script>alert("x")</script> & 'co'`);
    // The author's default is already HTML.
    expect(renderTemplate("{{X|<b>you</b>}}", {}, "html")).toBe("<b>you</b>");
  });

  it("never carries CR/LF into a header", () => {
    const s = { message: { FIRST_NAME: "Ann\r\nBcc: victim@example.com", x: "a\nb\u2028c" } };
    const subject = renderTemplate("Hello {{FIRST_NAME}} {{x}}", s, "header");
    expect(subject).not.toMatch(/[\r\n\u2028]/);
    expect(subject).toBe("Hello Ann Bcc: victim@example.com a b c");
  });

  it("strict mode: unknown names without a default", () => {
    const known = new Set(["FIRST_NAME", "clinic"]);
    expect(unknownVariables(known, "{{FIRST_NAME}} {{clinic}} {{visit|soon}}", "{{ward}} {{ward}}")).toEqual(["ward"]);
    // A name used once with and once without a default needs a value.
    expect(unknownVariables(known, "{{visit|soon}} {{visit}}")).toEqual(["visit"]);
    expect(unknownVariables(known, "plain")).toEqual([]);
  });
});
