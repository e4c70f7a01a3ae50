// <<TRENDING_QUESTION>>: managed through the API, substituted at delivery (one question per
// message, no fan-out needed), refused in strict mode when the workspace has none.
import { describe, expect, it } from "vitest";
import { api, json, waitForStatus } from "./helpers";
import { accept, mailgunProvider, sim, uniq, workspaceWith } from "./simulators/delivery-fixtures";

describe("trending questions", { timeout: 30_000 }, () => {
  it("PUT stores the list and rule; GET reads it; invalid input is refused", async () => {
    const ws = await workspaceWith(mailgunProvider(`${uniq("tq")}.example.org`));
    expect(await json(await api("/v1/workspace/trending-questions", { key: ws.key }))).toEqual({ questions: [], rule: "latest" });
    const put = await api("/v1/workspace/trending-questions", { method: "PUT", key: ws.key, json: { questions: ["Is flu season over?", "Older?"], rule: "random" } });
    expect(put.status).toBe(200);
    expect(await json(await api("/v1/workspace/trending-questions", { key: await ws.keyWith(["read"]) }))).toEqual({ questions: ["Is flu season over?", "Older?"], rule: "random" });
    expect((await api("/v1/workspace/trending-questions", { method: "PUT", key: ws.key, json: { questions: ["a\nb"] } })).status).toBe(400);
    expect((await api("/v1/workspace/trending-questions", { method: "PUT", key: ws.key, json: { questions: [], rule: "sometimes" } })).status).toBe(400);
    expect((await api("/v1/workspace/trending-questions", { method: "PUT", key: await ws.keyWith(["read", "send"]), json: { questions: [] } })).status).toBe(403);
    const audit = (await json(await api("/v1/audit-logs", { key: ws.key }))).data.map((r: any) => r.action);
    expect(audit).toContain("workspace.trending_questions.set");
  });

  it("is substituted in every part (escaped in HTML) and with names still fans out per recipient", async () => {
    const domain = `${uniq("tq")}.example.org`;
    const ws = await workspaceWith(mailgunProvider(domain));
    await api("/v1/workspace/trending-questions", { method: "PUT", key: ws.key, json: { questions: ["Can I get a <flu> shot?", "Old one?"], rule: "latest" } });
    const one = await accept(ws, { to: ["a@example.net", "b@example.net"], subject: "This week: <<TRENDING_QUESTION>>", html: "<p><<TRENDING_QUESTION>></p>", text: "<<TRENDING_QUESTION>>" });
    await waitForStatus(ws, one.id, ["sent"], 15_000);
    const [got, ...more] = await sim().received("mailgun", domain);
    expect(more).toHaveLength(0); // same content for everyone: one copy
    expect(got!.parsed?.subject).toBe("This week: Can I get a <flu> shot?");
    expect(got!.parsed?.html).toContain("<p>Can I get a &lt;flu&gt; shot?</p>");
    expect(got!.parsed?.text?.trim()).toBe("Can I get a <flu> shot?");

    await api("/v1/recipients/import", { method: "POST", key: ws.key, json: [{ email: "c@example.net", first_name: "Cy" }, { email: "d@example.net", first_name: "Di" }] });
    const two = await accept(ws, { to: ["c@example.net", "d@example.net"], text: "Hi {{FIRST_NAME|there}}. <<TRENDING_QUESTION>>" });
    await waitForStatus(ws, two.id, ["sent"], 15_000);
    const copies = (await sim().received("mailgun", domain)).filter((g) => g.parsed?.text?.startsWith("Hi"));
    expect(copies.map((g) => g.parsed?.text?.trim()).sort()).toEqual(["Hi Cy. Can I get a <flu> shot?", "Hi Di. Can I get a <flu> shot?"]);
  });

  it("strict mode refuses <<TRENDING_QUESTION>> when the workspace has no questions", async () => {
    const ws = await workspaceWith(mailgunProvider(`${uniq("tq")}.example.org`));
    const res = await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: { from: `c <n@${ws.domain}>`, to: ["x@example.net"], subject: "s", text: "<<TRENDING_QUESTION>>", strict_variables: true },
    });
    expect(res.status).toBe(422);
    expect((await json(res)).error.message).toContain("TRENDING_QUESTION");
  });
});
