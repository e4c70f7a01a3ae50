import { describe, expect, it } from "vitest";
import PostalMime from "postal-mime";
import { api, createWorkspace, json, message, waitForStatus } from "./helpers";

describe("end to end on the sandbox provider", () => {
  it("accepts over HTTP, delivers through the queue, and the rendered message matches the input", async () => {
    const ws = await createWorkspace();
    const res = await api("/v1/messages", {
      method: "POST",
      key: ws.key,
      json: message(ws, {
        to: ["Pat Doe <pat@example.net>"],
        cc: ["nurse@example.net"],
        bcc: ["audit@example.net"],
        html: "<p>See you on <b>Tuesday</b>.</p>",
        headers: { "X-Clinic-Ref": "A-17" },
        attachments: [{ filename: "letter.txt", content: btoa("hello letter"), content_type: "text/plain" }],
        tags: ["reminder"],
      }),
    });
    expect(res.status).toBe(202);
    const accepted = await json(res);
    expect(accepted.id).toMatch(/^msg_/);
    expect(accepted.recipients.map((r: any) => r.email).sort()).toEqual(["audit@example.net", "nurse@example.net", "pat@example.net"]);

    const done = await waitForStatus(ws, accepted.id, ["sent", "failed"]);
    expect(done.status).toBe("sent");
    expect(done.recipients.every((r: any) => r.status === "sent")).toBe(true);
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0].outcome).toBe("sent");

    const rendered = await api(`/v1/messages/${accepted.id}/rendered`, { key: ws.key });
    expect(rendered.status).toBe(200);
    const parsed = await PostalMime.parse(await rendered.arrayBuffer());
    expect(parsed.subject).toBe("Your appointment");
    expect(parsed.from).toMatchObject({ address: `noreply@${ws.domain}`, name: "Clinic" });
    expect(parsed.to).toEqual([{ address: "pat@example.net", name: "Pat Doe" }]);
    expect(parsed.cc).toEqual([{ address: "nurse@example.net", name: "" }]);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.messageId).toBe(accepted.message_id);
    expect(parsed.text?.trim()).toBe("See you on Tuesday.");
    expect(parsed.html).toContain("<b>Tuesday</b>");
    expect(parsed.headers.find((h) => h.key === "x-clinic-ref")?.value).toBe("A-17");
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.filename).toBe("letter.txt");
    expect(new TextDecoder().decode(parsed.attachments[0]!.content as ArrayBuffer)).toBe("hello letter");
  });
});
