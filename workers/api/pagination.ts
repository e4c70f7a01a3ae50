// Cursor pagination, the one way every list route pages: `limit` and an opaque `cursor` in the
// query, `{ data, next_cursor }` in the answer. A cursor is the keyset of the last row served
// (base64url of text we wrote), so pages stay stable while rows are added, and a cursor we did
// not write is a validation error rather than a query with arbitrary bounds.
import { z } from "@hono/zod-openapi";
import type { ZodType } from "zod";
import { fromBase64, fromUtf8, toBase64Url, utf8 } from "../../core/encoding";
import { RelayError } from "../../core/errors";
import { sharedParameter } from "./components";

// The two parameters are components (workers/api/components.ts), one `limit` per pair of bounds a
// list uses (PageLimit is the usual 1-100, 25 by default), referenced by every list.
const cursorParam = sharedParameter(
  "PageCursor",
  z
    .string()
    .max(200)
    .optional()
    .openapi("PageCursor", {
      param: { name: "cursor", in: "query", description: "The `next_cursor` of the previous page; without it, the first page" },
      example: "MTc2NDY4NjQwMDAwMDptc2dfMDFKRDRaOVE4WDJSNUs3TTNQ",
    }),
);

const limitParam = ({ max, fallback }: { max: number; fallback: number }) => {
  const refId = max === 100 && fallback === 25 ? "PageLimit" : `PageLimit${max}Default${fallback}`;
  return sharedParameter(
    refId,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(max)
      .default(fallback)
      .openapi(refId, { param: { name: "limit", in: "query", description: `Rows per page, 1 to ${max} (${fallback} when absent)` }, example: fallback }),
  );
};

export const pageQuery = (limits: { max: number; fallback: number } = { max: 100, fallback: 25 }) =>
  z.object({ limit: limitParam(limits), cursor: cursorParam });

export const pageSchema = <T extends ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });

/** Turns a row into its cursor and a cursor back into the keyset the store pages from. */
export interface Cursor<Row, Keyset> {
  encode(row: Row): string;
  decode(cursor: string): Keyset;
}

const encodeText = (text: string) => toBase64Url(utf8.encode(text));

function decodeText(cursor: string, pattern: RegExp): RegExpMatchArray {
  const bytes = fromBase64(cursor.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(cursor.length / 4) * 4, "="));
  const m = bytes && fromUtf8.decode(bytes).match(pattern);
  if (!m) throw new RelayError("validation_error", "cursor: not a cursor this API returned");
  return m;
}

type Keyed<K extends string> = { [key in K]: number } & { id: string };

/** Newest-first lists: the keyset is (a time column, the id), e.g. ("createdAt", "cmp"). */
export function timeIdCursor<K extends string>(timeField: K, idPrefix: string): Cursor<Keyed<K>, Keyed<K>> {
  const pattern = new RegExp(`^(\\d{1,16}):(${idPrefix}_[\\w-]{1,40})$`);
  return {
    encode: (row) => encodeText(`${row[timeField]}:${row.id}`),
    decode: (cursor) => {
      const m = decodeText(cursor, pattern);
      return { [timeField]: Number(m[1]), id: m[2]! } as Keyed<K>;
    },
  };
}

/** Lists ordered by an id alone (a list's members, by recipient id). */
export function idCursor<Row>(idPrefix: string, idOf: (row: Row) => string): Cursor<Row, string> {
  const pattern = new RegExp(`^(${idPrefix}_[\\w-]{1,40})$`);
  return { encode: (row) => encodeText(idOf(row)), decode: (cursor) => decodeText(cursor, pattern)[1]! };
}

/**
 * One page: asks the store for one row more than `limit`, and that extra row only tells whether
 * a next page exists (it is served first on that page).
 */
export async function readPage<Row, Keyset>(
  query: { limit: number; cursor?: string | undefined },
  cursor: Cursor<NoInfer<Row>, Keyset>,
  fetch: (from: Keyset | undefined, limit: number) => Promise<Row[]>,
): Promise<{ page: Row[]; next_cursor: string | null }> {
  const rows = await fetch(query.cursor ? cursor.decode(query.cursor) : undefined, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { page, next_cursor: rows.length > query.limit && last ? cursor.encode(last) : null };
}
