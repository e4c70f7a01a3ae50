// CSV for POST /v1/recipients/import: RFC 4180 parsing and the header row's mapping onto
// recipient rows (email, first_name, last_name, then custom fields).
import { RelayError } from "../../core/errors";
import { FIELD_NAME } from "./recipient-records";

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      row.push(field);
      field = "";
      rows.push(row);
      row = [];
      if (ch === "\r" && src[i + 1] === "\n") i++;
    } else field += ch;
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** CSV with a header row `email,first_name,last_name,<custom fields...>` to import rows. */
export function csvToRows(text: string): unknown[] {
  const [header, ...lines] = parseCsv(text);
  if (!header) throw new RelayError("validation_error", "csv: empty");
  const cols = header.map((h) => h.trim());
  if (!cols.includes("email")) throw new RelayError("validation_error", "csv: the header row needs an email column");
  const bad = cols.find((c) => !FIELD_NAME.test(c));
  if (bad !== undefined) throw new RelayError("validation_error", `csv: column '${bad}' is not a valid field name`);
  return lines.map((cells) => {
    const row: Record<string, unknown> = {};
    const custom: Record<string, string> = {};
    cols.forEach((c, j) => {
      const v = cells[j] ?? "";
      if (c === "email") row.email = v.trim();
      else if (c === "first_name" || c === "last_name") {
        if (v !== "") row[c] = v;
      } else if (v !== "") custom[c] = v;
    });
    if (Object.keys(custom).length) row.fields = custom;
    return row;
  });
}
