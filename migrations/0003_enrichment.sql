CREATE TABLE `llm_cache` (
	`workspace_id` text NOT NULL,
	`content_hash` text NOT NULL,
	`output_enc` text NOT NULL,
	`model` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`workspace_id`, `content_hash`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `llm_usage` (
	`workspace_id` text NOT NULL,
	`day` text NOT NULL,
	`tokens` integer DEFAULT 0 NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`workspace_id`, `day`),
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `campaign_stats` ADD `suppressed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `contains_phi` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `personalize` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `personalization` text;--> statement-breakpoint
ALTER TABLE `workspace_security` ADD `llm_api_key_enc` text;