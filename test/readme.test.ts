// The README's examples, run: every `curl` in a ```sh block that calls the local relay
// (http://127.0.0.1:8787) is parsed (a small subset of shell quoting) and sent to the test app in
// order, with the dev workspace's domain and the `…` placeholder ids replaced by this test's own.
// A README example that no longer matches the API fails here.
import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import { api, createWorkspace, json, waitForStatus, type TestWorkspace } from "./helpers";
import { mailgunProvider, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

interface Curl {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The `# → …` comment right after it, if any. */
  expect?: string;
}

/** Words of each command line: '…', "…" ($VAR expanded), $'…' (\n, \\, \'), backslash-newline, # comments. */
export function shellCommands(block: string, vars: Record<string, string>): { words: string[]; comment: string }[] {
  const out: { words: string[]; comment: string }[] = [];
  let words: string[] = [];
  let cur: string | null = null;
  let i = 0;
  const push = () => {
    if (cur !== null) words.push(cur);
    cur = null;
  };
  const expand = (): string => {
    const m = block.slice(i + 1).match(/^(?:\{(\w+)\}|(\w+))/);
    if (!m) {
      i++;
      return "$";
    }
    i += 1 + m[0].length;
    return vars[(m[1] ?? m[2])!] ?? `$${m[0]}`;
  };
  while (i < block.length) {
    const c = block[i]!;
    if (c === "\\" && block[i + 1] === "\n") i += 2;
    else if (c === "\n") {
      push();
      if (words.length) out.push({ words, comment: "" });
      words = [];
      i++;
    } else if (c === " " || c === "\t") {
      push();
      i++;
    } else if (c === "#" && cur === null) {
      const end = block.indexOf("\n", i);
      const text = block.slice(i + 1, end < 0 ? undefined : end).trim();
      if (words.length === 0 && out.length) out[out.length - 1]!.comment += (out[out.length - 1]!.comment ? "\n" : "") + text;
      i = end < 0 ? block.length : end;
    } else if (c === "'") {
      const end = block.indexOf("'", i + 1);
      cur = (cur ?? "") + block.slice(i + 1, end);
      i = end + 1;
    } else if (c === "$" && block[i + 1] === "'") {
      let s = "";
      i += 2;
      while (block[i] !== "'") {
        if (block[i] === "\\") {
          const e = block[i + 1]!;
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
          i += 2;
        } else s += block[i++];
      }
      cur = (cur ?? "") + s;
      i++;
    } else if (c === '"') {
      let s = "";
      i++;
      while (block[i] !== '"') {
        if (block[i] === "\\" && /["\\$`]/.test(block[i + 1]!)) {
          s += block[i + 1];
          i += 2;
        } else if (block[i] === "$") s += expand();
        else s += block[i++];
      }
      cur = (cur ?? "") + s;
      i++;
    } else if (c === "$") cur = (cur ?? "") + expand();
    else {
      cur = (cur ?? "") + c;
      i++;
    }
  }
  push();
  if (words.length) out.push({ words, comment: "" });
  return out;
}

export function readmeCurls(markdown: string, key: string): Curl[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const curls: Curl[] = [];
  for (const block of blocks) {
    for (const { words, comment } of shellCommands(block, { KEY: key })) {
      if (words[0] !== "curl") continue;
      const c: Curl = { method: "", path: "", headers: {}, ...(comment ? { expect: comment } : {}) };
      let url = "";
      for (let j = 1; j < words.length; j++) {
        const w = words[j]!;
        if (w === "-s") continue;
        else if (w === "-X") c.method = words[++j]!;
        else if (w === "-H") {
          const h = words[++j]!;
          c.headers[h.slice(0, h.indexOf(":")).trim().toLowerCase()] = h.slice(h.indexOf(":") + 1).trim();
        } else if (w === "-d" || w === "--data-binary") c.body = words[++j]!;
        else if (!w.startsWith("-")) url = w;
        else throw new Error(`README curl: unknown option ${w}`);
      }
      if (!url.startsWith("http://127.0.0.1:8787/")) continue; // $RELAY examples need real providers
      c.path = url.slice("http://127.0.0.1:8787".length);
      c.method ||= c.body !== undefined ? "POST" : "GET";
      curls.push(c);
    }
  }
  return curls;
}

const PLACEHOLDER = /\b(msg|cmp|lst|rcp)_…/g;

/** Runs the README's curls in order; `…` ids become the latest id of that kind seen in an answer. */
async function runAll(curls: Curl[], ws: TestWorkspace) {
  const latest: Record<string, string> = {};
  const remember = (text: string) => {
    for (const m of text.matchAll(/"(?:id|recipient_id)":"((msg|cmp|lst|rcp)_[\w-]+)"/g)) latest[m[2]!] = m[1]!;
  };
  const fill = (s: string) =>
    s.replace(PLACEHOLDER, (whole, kind: string) => {
      if (!latest[kind]) throw new Error(`README: ${whole} used before any ${kind} id was returned`);
      return latest[kind]!;
    });
  const answers: { curl: Curl; status: number; text: string }[] = [];
  for (const curl of curls) {
    const path = fill(curl.path);
    if (path.endsWith("/rendered")) await waitForStatus(ws, path.split("/")[3]!, ["sent"]);
    const body = curl.body === undefined ? undefined : fill(curl.body).replaceAll("clinic.example", ws.domain);
    const res = await api(path, { method: curl.method, headers: { ...curl.headers, authorization: `Bearer ${ws.key}` }, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    expect(res.status, `${curl.method} ${curl.path}: ${text}`).toBeLessThan(300);
    const promised = curl.expect?.match(/^→ (\d{3}) /);
    if (promised) expect(res.status, `${curl.method} ${curl.path}`).toBe(Number(promised[1]));
    remember(text);
    answers.push({ curl, status: res.status, text });
  }
  return answers;
}

const section = (heading: string) => {
  const start = readme.indexOf(`\n## ${heading}`);
  const end = readme.indexOf("\n## ", start + 1);
  expect(start, heading).toBeGreaterThan(0);
  return readme.slice(start, end < 0 ? undefined : end);
};

describe("README examples", { timeout: 60_000 }, () => {
  it("the quick start: send, read the status and the sandbox's rendered copy", async () => {
    const ws = await createWorkspace();
    const curls = readmeCurls(readme.slice(0, readme.indexOf("\n## ")), ws.key);
    expect(curls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /v1/messages", "GET /v1/messages/msg_…", "GET /v1/messages/msg_…/rendered"]);
    const [, , rendered] = await runAll(curls, ws);
    expect(rendered!.text).toMatch(/Subject: Hello/);
  });

  it("a personalized send with recipient data and <<TRENDING_QUESTION>>: one copy per recipient, only their own values", async () => {
    const domain = `${uniq("readme")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    const curls = readmeCurls(section("Recipients, variables and per-recipient copies"), ws.key);
    expect(curls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /v1/recipients/import", "PUT /v1/workspace/trending-questions", "POST /v1/messages"]);
    const answers = await runAll(curls, ws);
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ created: 2, failed: 0 });
    const sent = JSON.parse(answers[2]!.text);
    expect((await waitForStatus(ws, sent.id, ["sent", "failed", "partially_failed"], 15_000)).status).toBe("sent");

    const copies = await sim().received("mailgun", domain);
    expect(copies).toHaveLength(2);
    const ann = copies.find((c) => c.to.includes("ann@example.net"))!;
    const bob = copies.find((c) => c.to.includes("bob@example.net"))!;
    expect(ann.to).toEqual(["ann@example.net"]);
    expect(ann.parsed?.subject).toBe("Your visit, Ann");
    expect(ann.parsed?.text?.trim()).toBe("Hi Ann, see you in room 101 on Tuesday.\nThis week: Is it too late for a flu shot?");
    expect(bob.parsed?.text?.trim()).toBe("Hi Bob, see you in room 202 on Tuesday.\nThis week: Is it too late for a flu shot?");
    expect(ann.mime).not.toMatch(/bob@|Baker|room 202/i);
    expect(bob.mime).not.toMatch(/ann@|Archer|room 101/i);
  });

  it("campaigns and lists: the commands work and the numbers are the ones shown", async () => {
    const ws = await createWorkspace();
    const curls = readmeCurls(section("Campaigns and recipient lists"), ws.key);
    expect(curls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "POST /v1/campaigns",
      "POST /v1/messages",
      "GET /v1/campaigns/cmp_…",
      "PATCH /v1/campaigns/cmp_…",
      "POST /v1/lists",
      "POST /v1/lists/lst_…/members",
      "GET /v1/lists/lst_…/members?limit=100",
      "DELETE /v1/lists/lst_…/members/rcp_…",
    ]);
    // Run the campaign part, wait for delivery, then read the stats the README shows.
    const [create, send] = await runAll(curls.slice(0, 2), ws);
    const campaign = JSON.parse(create!.text);
    await waitForStatus(ws, JSON.parse(send!.text).id, ["sent"]);
    // The list example adds Bob by recipient id: the send made him a recipient record.
    const bob = (await json(await api("/v1/recipients?limit=100", { key: ws.key }))).data.find((r: any) => r.email === "bob@example.net");
    const rest = await runAll(
      curls.slice(2).map((c) => ({ ...c, path: c.path.replace("cmp_…", campaign.id), ...(c.body ? { body: c.body.replace("rcp_…", bob.id) } : {}) })),
      ws,
    );
    const stats = JSON.parse(rest[0]!.text);
    expect(stats.stats).toEqual({ queued: 2, sent: 2, delivered: 0, bounced: 0, complained: 0, failed: 0, suppressed: 0 });
    expect(stats.days).toHaveLength(1);
    expect(JSON.parse(rest[1]!.text).status).toBe("completed");
    expect(JSON.parse(rest[3]!.text)).toMatchObject({ added: 3, already_member: 0, failed: 0, created: 1 });
    const members = JSON.parse(rest[4]!.text).data.map((m: any) => m.email).sort();
    expect(members).toEqual(["ann@example.net", "bob@example.net", "cy@example.net"]);
    expect(rest[5]!.status).toBe(204);
  });
});
