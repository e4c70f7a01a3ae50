// The messages the bench sends: one text, through the API (JSON) or to the bench-only Worker
// (the MIME it would store).
export const mime = (from, to, subject, text) =>
  `From: <${from}>\r\nTo: ${to.map((t) => `<${t}>`).join(", ")}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`;
const TEXT = "Your lab results are ready. Sign in to the patient portal to read them.\n".repeat(4);
export const recipients = (n, tag) => Array.from({ length: n }, (_, i) => `${tag}-${i}@example.net`);
export const apiBody = (ws, to) => JSON.stringify({ from: `noreply@${ws.domain}`, to, subject: "Your results", text: TEXT });
export const bareBody = (ws, to) => JSON.stringify({ workspace_id: ws.id, domain: ws.domain, from: `noreply@${ws.domain}`, to, body: mime(`noreply@${ws.domain}`, to, "Your results", TEXT) });
