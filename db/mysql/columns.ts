// Column helpers of the MySQL schema (db/mysql/schema/), so each table reads like its D1 twin in
// db/schema. Sizes are chosen for the indexes: InnoDB keys are at most 3072 bytes, 768 utf8mb4
// characters, so an indexed string has a length that fits beside the columns it is indexed with.
// Everything else that is free text is TEXT/LONGTEXT. The database is utf8mb4 with the binary
// collation (utf8mb4_bin, set by db/mysql/migrate.ts), so comparisons and unique keys are exact and
// case-sensitive as in SQLite, and keyset ranges ("base#" < key < "base$") order by code point.
import { sql } from "drizzle-orm";
import { bigint, customType, varchar } from "drizzle-orm/mysql-core";

/** Epoch milliseconds, as D1's `unixepoch('subsec') * 1000`. */
export const NOW_MS = sql`(floor(unix_timestamp(now(3)) * 1000))`;

/** Prefixed random ids (core/ids.ts: 26 characters; the API accepts up to 64). */
export const id = (name: string) => varchar(name, { length: 64 });
/** An address: the API accepts up to 320 characters (64 local part + @ + 255 domain). */
export const email = (name: string) => varchar(name, { length: 320 });
/** A DNS name (253 characters at most). */
export const domainName = (name: string) => varchar(name, { length: 253 });
/**
 * A Message-ID header with its angle brackets. 680 keeps (workspace_id, message_id_header)
 * within InnoDB's 3072-byte key; the D1 schema has no limit, so the MySQL store refuses longer
 * ones before writing (core caps header values at 998).
 */
export const MESSAGE_ID_MAX = 680;
export const messageIdHeader = (name: string) => varchar(name, { length: MESSAGE_ID_MAX });
/**
 * An Idempotency-Key, or `message-id:<Message-ID>#<n>` (db/message-id-generations.ts): 11 + 680
 * + the generation suffix fits, and (workspace_id, key) is exactly 3072 bytes.
 */
export const IDEMPOTENCY_KEY_MAX = 704;
export const idempotencyKey = (name: string) => varchar(name, { length: IDEMPOTENCY_KEY_MAX });
/** Closed sets of values (statuses, kinds): checked by TypeScript, stored as short strings. */
export const choice = <U extends string, T extends Readonly<[U, ...U[]]>>(name: string, values: T) => varchar(name, { length: 32, enum: values });
/** Epoch milliseconds (every time column). */
export const ms = (name: string) => bigint(name, { mode: "number" });
export const createdAt = () => ms("created_at").notNull().default(NOW_MS);
export const updatedAt = () => ms("updated_at").notNull().default(NOW_MS);

/**
 * JSON text, as D1's `text({ mode: "json" })`. MySQL 8 stores JSON natively and mysql2 hands
 * it back parsed; MariaDB's JSON is LONGTEXT with a json_valid() check and comes back as a
 * string: both are read back as the value.
 */
export const json = <T>(name: string) =>
  customType<{ data: T; driverData: string }>({
    dataType: () => "json",
    toDriver: (value) => JSON.stringify(value),
    fromDriver: (value) => (typeof value === "string" ? (JSON.parse(value) as T) : (value as T)),
  })(name);

/** Literal JSON default: MySQL 8 accepts a default on a JSON column only as an expression. */
export const jsonDefault = (value: unknown) => sql.raw(`('${JSON.stringify(value).replaceAll("'", "''")}')`);
