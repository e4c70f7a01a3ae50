// The storage model: every entity of the spec's database diagram, in D1 (SQLite), one file per
// area. Times are integer milliseconds since the epoch (UTC). Ids are prefixed random strings.
// Columns ending in `_enc` hold AES-256-GCM ciphertext (see core/crypto.ts); the key id
// travels inside the ciphertext envelope so keys can rotate. drizzle-kit reads this file
// (drizzle.config.ts); db/mysql/schema/ holds the MySQL twins.
export * from "./workspaces";
export * from "./providers";
export * from "./messages";
export * from "./recipients";
export * from "./webhooks";
