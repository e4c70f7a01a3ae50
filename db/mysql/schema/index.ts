// The storage model for MySQL 8 / MariaDB 10.11+ (through Hyperdrive): the same tables, columns,
// indexes and unique constraints as the D1 schema (db/schema), in MySQL types. Migrations are
// generated from it into migrations-mysql/ (drizzle.mysql.config.ts) and applied by
// db/mysql/migrate.ts. What differs, and why:
//   - times are BIGINT epoch milliseconds, defaulting to the server clock like D1's;
//   - indexed strings are VARCHARs sized so every index fits InnoDB's 3072-byte key (columns.ts);
//   - JSON columns are JSON (MariaDB: LONGTEXT checked by json_valid), read back as values;
//   - SQLite's partial and expression indexes become generated columns or plain indexes
//     (sender_domains.verified_domain, recipients.email_lower, the two status-prefixed ones);
//   - audit_logs is append-only through BEFORE UPDATE/DELETE triggers (a custom migration).
export * from "./workspaces";
export * from "./providers";
export * from "./messages";
export * from "./recipients";
export * from "./webhooks";
