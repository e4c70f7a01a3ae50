CREATE TABLE `provider_webhook_keys` (
	`provider_id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`signing_key_enc` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `provider_webhook_tokens` (
	`provider_id` text NOT NULL,
	`token` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`provider_id`, `token`)
);
--> statement-breakpoint
CREATE INDEX `provider_webhook_tokens_created` ON `provider_webhook_tokens` (`created_at`);--> statement-breakpoint
CREATE TABLE `webhook_attempts` (
	`id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`workspace_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`status_code` integer,
	`latency_ms` integer NOT NULL,
	`error` text,
	`next_attempt_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `webhook_events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `webhook_attempts_event` ON `webhook_attempts` (`event_id`,`attempt`);--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `description` text;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `failing_since` integer;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `disabled_at` integer;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `disabled_reason` text;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `last_status_code` integer;--> statement-breakpoint
ALTER TABLE `webhook_events` ADD `delivered_at` integer;--> statement-breakpoint
CREATE INDEX `webhook_events_endpoint` ON `webhook_events` (`endpoint_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `message_recipients_provider_message` ON `message_recipients` (`provider_message_id`);--> statement-breakpoint
CREATE INDEX `messages_msgid` ON `messages` (`message_id_header`);