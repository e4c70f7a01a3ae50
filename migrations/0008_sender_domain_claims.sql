DROP INDEX `sender_domains_domain_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `sender_domains_workspace_domain` ON `sender_domains` (`workspace_id`,`domain`);--> statement-breakpoint
CREATE UNIQUE INDEX `sender_domains_verified_domain` ON `sender_domains` (`domain`) WHERE "sender_domains"."verified_at" IS NOT NULL;