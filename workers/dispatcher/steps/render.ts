// render: one RFC 5322 message for every recipient, or, for templated content, each recipient's
// own content with their variables in (rendered to MIME at their call: attachments would not fit
// in memory 500 times over).
import type { MessageContent } from "../../../core/content";
import { renderMime } from "../../../core/mime-render";
import type { MessageRow } from "../../../db/messages/types";
import { loadRecipientVariables, personalCopy } from "../../template-variables";
import type { BatchContext } from "../batch-context";
import type { Permitted, Rendered } from "../delivery";

export const renderOptions = (message: MessageRow) => ({ messageIdHeader: message.messageIdHeader, date: new Date(message.queuedAt) });

export async function render(ctx: BatchContext, d: Permitted): Promise<Rendered> {
  const { content } = d;
  if (!d.fanOut || content.kind !== "structured") return { ...d, raw: await renderMime(content, renderOptions(d.message)), copies: null };
  const profiles = await loadRecipientVariables(ctx.store.recipients, d.ring, d.message.workspaceId, d.claimed.map((r) => r.email));
  const copies = new Map<string, MessageContent>();
  for (const r of d.claimed) copies.set(r.id, personalCopy(content, r.email, profiles.get(r.email.toLowerCase()) ?? {}, d.settings.variables));
  return { ...d, raw: null, copies };
}
