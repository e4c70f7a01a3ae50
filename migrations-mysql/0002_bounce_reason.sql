ALTER TABLE `message_recipients` ADD `bounce` json;--> statement-breakpoint
CREATE INDEX `message_recipients_bounced` ON `message_recipients` (`workspace_id`,`provider_id`);