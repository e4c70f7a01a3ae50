CREATE TABLE `workspace_security` (
	`workspace_id` text PRIMARY KEY NOT NULL,
	`jwt_issuer` text,
	`jwt` text,
	`retention_days` integer,
	`dlp` text,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `workspace_security_issuer` ON `workspace_security` (`jwt_issuer`);--> statement-breakpoint
ALTER TABLE `audit_logs` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `audit_logs` ADD `detail` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `body_purged_at` integer;--> statement-breakpoint
-- Audit rows are append-only: the database itself refuses to change or remove them.
CREATE TRIGGER `audit_logs_no_update` BEFORE UPDATE ON `audit_logs` BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;--> statement-breakpoint
CREATE TRIGGER `audit_logs_no_delete` BEFORE DELETE ON `audit_logs` BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only'); END;
