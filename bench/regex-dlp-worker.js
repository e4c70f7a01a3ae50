// Bench-only Worker for bench/regex-dlp.mjs (never deployed): runs the relay's own DLP scan
// (core/dlp.ts scanContent, so RE2 via core/tenant-regex.ts; the engine imported statically here,
// where the relay loads it lazily) over a subject of `size` chars, or
// the same pattern on V8's RegExp for contrast. workerd freezes timers during execution, so the
// harness measures CPU from /proc, not here.
//   GET /dlp?pattern=…&input=…&size=…&reps=…   the DLP scan `reps` times; answers the hits
//   GET /v8?pattern=…&input=…&size=…            one V8 RegExp test (the pre-RE2 engine)
import { RE2JS } from "re2js";
import { scanContent } from "../core/dlp";

const inputs = {
  // "aaaa…a!": the classic trigger for (a+)+$; never matches it.
  a_bang: (n) => `${"a".repeat(n - 1)}!`,
  // Patient-letter-like text with an MRN at the very end.
  text: (n) => {
    const line = "Your results are ready; sign in to the patient portal to read them. ";
    return `${line.repeat(Math.ceil(n / line.length)).slice(0, n - 12)} MRN-1234567`;
  },
};

const content = (subject) => ({ kind: "structured", from: { address: "a@b.example" }, to: [], cc: [], subject, headers: [], attachments: [], variables: {} });

export default {
  async fetch(req) {
    const u = new URL(req.url);
    const pattern = u.searchParams.get("pattern") ?? "x";
    const size = Number(u.searchParams.get("size") ?? 100_000);
    const text = (inputs[u.searchParams.get("input") ?? "a_bang"] ?? inputs.a_bang)(size);
    if (u.pathname === "/v8") return Response.json({ matched: new RegExp(pattern).test(text) });
    const reps = Number(u.searchParams.get("reps") ?? 1);
    const policy = { action: "reject", rules: [{ name: "r", pattern, fields: ["subject"] }] };
    let hits = [];
    for (let i = 0; i < reps; i++) hits = scanContent(RE2JS, policy, content(text)).hits;
    return Response.json({ matched: hits.length > 0 });
  },
};
