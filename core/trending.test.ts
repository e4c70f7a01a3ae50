import { describe, expect, it } from "vitest";
import type { StructuredContent } from "./content";
import { applyTrending, pickTrendingQuestion, trendingQuestionsSchema } from "./trending";

const content = (extra: Partial<StructuredContent>): StructuredContent => ({
  kind: "structured",
  from: { address: "a@example.org", name: "" },
  to: [],
  cc: [],
  subject: "s",
  headers: [],
  attachments: [],
  variables: {},
  ...extra,
});

describe("trending questions", () => {
  const qs = ["Newest?", "Middle?", "Oldest?"];

  it("latest picks the newest; none gives null", () => {
    expect(pickTrendingQuestion({ questions: qs, rule: "latest" }, "msg_1", 0)).toBe("Newest?");
    expect(pickTrendingQuestion({ questions: [], rule: "latest" }, "msg_1", 0)).toBeNull();
    expect(pickTrendingQuestion(undefined, "msg_1", 0)).toBeNull();
  });

  it("rotating moves to the next question each UTC day", () => {
    const day = 86_400_000;
    const picks = [0, 1, 2, 3].map((d) => pickTrendingQuestion({ questions: qs, rule: "rotating" }, "msg_1", (3000 + d) * day + 5));
    expect(new Set(picks.slice(0, 3)).size).toBe(3);
    expect(picks[3]).toBe(picks[0]);
  });

  it("random is stable per message and spreads across messages", () => {
    const t = { questions: qs, rule: "random" as const };
    expect(pickTrendingQuestion(t, "msg_abc", 1)).toBe(pickTrendingQuestion(t, "msg_abc", 999_999_999));
    const seen = new Set(Array.from({ length: 60 }, (_, i) => pickTrendingQuestion(t, `msg_${i}`, 0)));
    expect(seen.size).toBe(3);
  });

  it("substitutes per part: escaped in HTML, line-break-free in the subject", () => {
    const c = applyTrending(content({ subject: "Q: <<TRENDING_QUESTION>>", text: "<<TRENDING_QUESTION>>", html: "<p><<TRENDING_QUESTION>></p>" }), 'Is "A" < B?');
    expect(c.subject).toBe('Q: Is "A" < B?');
    expect(c.text).toBe('Is "A" < B?');
    expect(c.html).toBe("<p>Is &quot;A&quot; &lt; B?</p>");
    expect(applyTrending(content({ text: "x <<TRENDING_QUESTION>>" }), null).text).toBe("x ");
  });

  it("validates the list", () => {
    expect(trendingQuestionsSchema.safeParse({ questions: ["a\r\nBcc: x"] }).success).toBe(false);
    expect(trendingQuestionsSchema.parse({ questions: [" a "] })).toEqual({ questions: ["a"], rule: "latest" });
  });
});
