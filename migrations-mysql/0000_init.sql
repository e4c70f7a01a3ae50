CREATE TABLE `api_keys` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`user_id` varchar(64),
	`name` varchar(255) NOT NULL,
	`prefix` varchar(32) NOT NULL,
	`key_hash` varchar(128) NOT NULL,
	`scopes` json NOT NULL,
	`expires_at` bigint,
	`revoked_at` bigint,
	`last_used_at` bigint,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `api_keys_id` PRIMARY KEY(`id`),
	CONSTRAINT `api_keys_key_hash_unique` UNIQUE(`key_hash`)
);
--> statement-breakpoint
CREATE TABLE `audit_logs` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64),
	`actor` varchar(255) NOT NULL,
	`credential_id` varchar(64),
	`action` varchar(128) NOT NULL,
	`resource` varchar(512) NOT NULL,
	`ip` varchar(64),
	`outcome` varchar(32) NOT NULL,
	`request_id` varchar(64),
	`detail` json NOT NULL DEFAULT ('{}'),
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `audit_logs_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `llm_cache` (
	`workspace_id` varchar(64) NOT NULL,
	`content_hash` varchar(128) NOT NULL,
	`output_enc` mediumtext NOT NULL,
	`model` varchar(255) NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `llm_cache_workspace_id_content_hash_pk` PRIMARY KEY(`workspace_id`,`content_hash`)
);
--> statement-breakpoint
CREATE TABLE `llm_usage` (
	`workspace_id` varchar(64) NOT NULL,
	`day` varchar(10) NOT NULL,
	`tokens` int NOT NULL DEFAULT 0,
	`calls` int NOT NULL DEFAULT 0,
	CONSTRAINT `llm_usage_workspace_id_day_pk` PRIMARY KEY(`workspace_id`,`day`)
);
--> statement-breakpoint
CREATE TABLE `sender_domains` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`domain` varchar(253) NOT NULL,
	`verification_token` varchar(255) NOT NULL,
	`verified_at` bigint,
	`verified_domain` varchar(253) GENERATED ALWAYS AS ((case when verified_at is null then null else domain end)) STORED,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `sender_domains_id` PRIMARY KEY(`id`),
	CONSTRAINT `sender_domains_workspace_domain` UNIQUE(`workspace_id`,`domain`),
	CONSTRAINT `sender_domains_verified_domain` UNIQUE(`verified_domain`)
);
--> statement-breakpoint
CREATE TABLE `user_rate_limits` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`user_id` varchar(64) NOT NULL,
	`period` varchar(32) NOT NULL,
	`max_count` int NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `user_rate_limits_id` PRIMARY KEY(`id`),
	CONSTRAINT `user_rate_limits_user_period` UNIQUE(`user_id`,`period`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`email` varchar(320) NOT NULL,
	`name_enc` text,
	`role` varchar(32) NOT NULL DEFAULT 'member',
	`external_id` varchar(255),
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `users_id` PRIMARY KEY(`id`),
	CONSTRAINT `users_workspace_email` UNIQUE(`workspace_id`,`email`)
);
--> statement-breakpoint
CREATE TABLE `workspace_security` (
	`workspace_id` varchar(64) NOT NULL,
	`jwt_issuer` varchar(512),
	`jwt` json,
	`retention_days` int,
	`dlp` json,
	`llm_api_key_enc` text,
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `workspace_security_workspace_id` PRIMARY KEY(`workspace_id`)
);
--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` varchar(64) NOT NULL,
	`slug` varchar(64) NOT NULL,
	`domain` varchar(253),
	`display_name` varchar(255) NOT NULL,
	`configuration` json NOT NULL DEFAULT ('{}'),
	`status` varchar(32) NOT NULL DEFAULT 'active',
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `workspaces_id` PRIMARY KEY(`id`),
	CONSTRAINT `workspaces_slug_unique` UNIQUE(`slug`),
	CONSTRAINT `workspaces_domain_unique` UNIQUE(`domain`)
);
--> statement-breakpoint
CREATE TABLE `circuit_breakers` (
	`provider_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`state` varchar(32) NOT NULL DEFAULT 'closed',
	`failure_count` int NOT NULL DEFAULT 0,
	`success_count` int NOT NULL DEFAULT 0,
	`last_failure_at` bigint,
	`state_changed_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `circuit_breakers_provider_id` PRIMARY KEY(`provider_id`)
);
--> statement-breakpoint
CREATE TABLE `health_checks` (
	`id` varchar(64) NOT NULL,
	`provider_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`status` varchar(32) NOT NULL,
	`latency_ms` int,
	`detail` text,
	`checked_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `health_checks_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `provider_metrics` (
	`provider_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`window_start` bigint NOT NULL,
	`sent` int NOT NULL DEFAULT 0,
	`transient_failures` int NOT NULL DEFAULT 0,
	`permanent_failures` int NOT NULL DEFAULT 0,
	`latency_ms_sum` bigint NOT NULL DEFAULT 0,
	CONSTRAINT `provider_metrics_provider_id_window_start_pk` PRIMARY KEY(`provider_id`,`window_start`)
);
--> statement-breakpoint
CREATE TABLE `provider_webhook_keys` (
	`provider_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`signing_key_enc` text NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `provider_webhook_keys_provider_id` PRIMARY KEY(`provider_id`)
);
--> statement-breakpoint
CREATE TABLE `provider_webhook_tokens` (
	`provider_id` varchar(64) NOT NULL,
	`token` varchar(255) NOT NULL,
	`created_at` bigint NOT NULL,
	CONSTRAINT `provider_webhook_tokens_provider_id_token_pk` PRIMARY KEY(`provider_id`,`token`)
);
--> statement-breakpoint
CREATE TABLE `providers` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL,
	`type` varchar(32) NOT NULL,
	`config` json NOT NULL DEFAULT ('{}'),
	`credentials_enc` text,
	`status` varchar(32) NOT NULL DEFAULT 'enabled',
	`priority` int NOT NULL DEFAULT 100,
	`weight` int NOT NULL DEFAULT 1,
	`baa_covered` boolean NOT NULL DEFAULT false,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `providers_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64),
	`scope` varchar(32) NOT NULL,
	`provider_id` varchar(64),
	`period` varchar(32) NOT NULL,
	`max_count` int NOT NULL,
	`burst` int,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `rate_limits_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `attachments` (
	`id` varchar(64) NOT NULL,
	`message_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`filename_enc` text NOT NULL,
	`content_type` varchar(255) NOT NULL,
	`size_bytes` bigint NOT NULL,
	`content_id` varchar(998),
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `attachments_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `delivery_attempts` (
	`id` varchar(64) NOT NULL,
	`message_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`delivery_id` varchar(128) NOT NULL,
	`provider_id` varchar(64),
	`recipients` json NOT NULL,
	`outcome` varchar(32) NOT NULL,
	`detail` text,
	`provider_message_id` varchar(512),
	`latency_ms` int,
	`started_at` bigint NOT NULL,
	`finished_at` bigint NOT NULL,
	CONSTRAINT `delivery_attempts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`workspace_id` varchar(64) NOT NULL,
	`key` varchar(704) NOT NULL,
	`request_hash` varchar(128) NOT NULL,
	`message_id` varchar(64),
	`response_status` int NOT NULL,
	`response_body` longtext NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `idempotency_keys_workspace_id_key_pk` PRIMARY KEY(`workspace_id`,`key`)
);
--> statement-breakpoint
CREATE TABLE `message_headers` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`message_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL,
	CONSTRAINT `message_headers_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `message_recipients` (
	`id` varchar(64) NOT NULL,
	`message_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`recipient_id` varchar(64),
	`email` varchar(320) NOT NULL,
	`kind` varchar(32) NOT NULL,
	`status` varchar(32) NOT NULL DEFAULT 'queued',
	`provider_id` varchar(64),
	`provider_message_id` varchar(512),
	`last_error` text,
	`attempts` int NOT NULL DEFAULT 0,
	`sent_at` bigint,
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`lease_until` bigint,
	CONSTRAINT `message_recipients_id` PRIMARY KEY(`id`),
	CONSTRAINT `message_recipients_message_email` UNIQUE(`message_id`,`email`)
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`user_id` varchar(64),
	`api_key_id` varchar(64),
	`campaign_id` varchar(64),
	`source` varchar(32) NOT NULL,
	`message_id_header` varchar(680) NOT NULL,
	`from_email` varchar(320) NOT NULL,
	`envelope_from` varchar(320),
	`to_emails` json NOT NULL,
	`status` varchar(32) NOT NULL DEFAULT 'queued',
	`tags` json NOT NULL DEFAULT ('[]'),
	`metadata` json NOT NULL DEFAULT ('{}'),
	`body_enc` longtext,
	`body_r2_key` varchar(255),
	`size_bytes` bigint NOT NULL,
	`force_send` boolean NOT NULL DEFAULT false,
	`not_before` bigint,
	`attempt_count` int NOT NULL DEFAULT 0,
	`last_error` text,
	`enqueued_at` bigint,
	`queued_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`processed_at` bigint,
	`request_id` varchar(64),
	`body_purged_at` bigint,
	`contains_phi` boolean NOT NULL DEFAULT false,
	`personalize` boolean NOT NULL DEFAULT false,
	`personalization` json,
	`waiting_on` varchar(128),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `messages_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `campaign_stats` (
	`campaign_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`day` varchar(10) NOT NULL,
	`queued` int NOT NULL DEFAULT 0,
	`sent` int NOT NULL DEFAULT 0,
	`delivered` int NOT NULL DEFAULT 0,
	`bounced` int NOT NULL DEFAULT 0,
	`complained` int NOT NULL DEFAULT 0,
	`failed` int NOT NULL DEFAULT 0,
	`suppressed` int NOT NULL DEFAULT 0,
	CONSTRAINT `campaign_stats_campaign_id_day_pk` PRIMARY KEY(`campaign_id`,`day`)
);
--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL,
	`status` varchar(32) NOT NULL DEFAULT 'active',
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `campaigns_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `recipient_events` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`recipient_id` varchar(64),
	`message_recipient_id` varchar(64),
	`message_id` varchar(64),
	`type` varchar(64) NOT NULL,
	`detail` json NOT NULL DEFAULT ('{}'),
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `recipient_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `recipient_list_members` (
	`list_id` varchar(64) NOT NULL,
	`recipient_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `recipient_list_members_list_id_recipient_id_pk` PRIMARY KEY(`list_id`,`recipient_id`)
);
--> statement-breakpoint
CREATE TABLE `recipient_lists` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`name` varchar(255) NOT NULL,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `recipient_lists_id` PRIMARY KEY(`id`),
	CONSTRAINT `recipient_lists_workspace_name` UNIQUE(`workspace_id`,`name`)
);
--> statement-breakpoint
CREATE TABLE `recipients` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`email` varchar(320) NOT NULL,
	`email_lower` varchar(320) GENERATED ALWAYS AS ((lower(email))) STORED,
	`status` varchar(32) NOT NULL DEFAULT 'active',
	`bounce_count` int NOT NULL DEFAULT 0,
	`first_name_enc` text,
	`last_name_enc` text,
	`fields_enc` mediumtext,
	`metadata` json NOT NULL DEFAULT ('{}'),
	`campaign_id` varchar(64),
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `recipients_id` PRIMARY KEY(`id`),
	CONSTRAINT `recipients_workspace_email` UNIQUE(`workspace_id`,`email`)
);
--> statement-breakpoint
CREATE TABLE `webhook_attempts` (
	`id` varchar(64) NOT NULL,
	`event_id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`endpoint_id` varchar(64) NOT NULL,
	`attempt` int NOT NULL,
	`status_code` int,
	`latency_ms` int NOT NULL,
	`error` text,
	`next_attempt_at` bigint,
	`created_at` bigint NOT NULL,
	CONSTRAINT `webhook_attempts_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`url` varchar(2048) NOT NULL,
	`secret_enc` text NOT NULL,
	`events` json NOT NULL,
	`enabled` boolean NOT NULL DEFAULT true,
	`description` text,
	`failing_since` bigint,
	`disabled_at` bigint,
	`disabled_reason` text,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	`updated_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `webhook_endpoints_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` varchar(64) NOT NULL,
	`workspace_id` varchar(64) NOT NULL,
	`endpoint_id` varchar(64),
	`message_id` varchar(64),
	`type` varchar(64) NOT NULL,
	`payload` json NOT NULL,
	`status` varchar(32) NOT NULL DEFAULT 'pending',
	`attempts` int NOT NULL DEFAULT 0,
	`next_attempt_at` bigint,
	`last_error` text,
	`last_status_code` int,
	`delivered_at` bigint,
	`created_at` bigint NOT NULL DEFAULT (floor(unix_timestamp(now(3)) * 1000)),
	CONSTRAINT `webhook_events_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
ALTER TABLE `api_keys` ADD CONSTRAINT `api_keys_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `api_keys` ADD CONSTRAINT `api_keys_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `llm_cache` ADD CONSTRAINT `llm_cache_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `llm_usage` ADD CONSTRAINT `llm_usage_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `sender_domains` ADD CONSTRAINT `sender_domains_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `user_rate_limits` ADD CONSTRAINT `user_rate_limits_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `user_rate_limits` ADD CONSTRAINT `user_rate_limits_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `users` ADD CONSTRAINT `users_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `workspace_security` ADD CONSTRAINT `workspace_security_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `circuit_breakers` ADD CONSTRAINT `circuit_breakers_provider_id_providers_id_fk` FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `health_checks` ADD CONSTRAINT `health_checks_provider_id_providers_id_fk` FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `provider_metrics` ADD CONSTRAINT `provider_metrics_provider_id_providers_id_fk` FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `provider_webhook_keys` ADD CONSTRAINT `provider_webhook_keys_provider_id_providers_id_fk` FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `providers` ADD CONSTRAINT `providers_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `rate_limits` ADD CONSTRAINT `rate_limits_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `rate_limits` ADD CONSTRAINT `rate_limits_provider_id_providers_id_fk` FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `attachments` ADD CONSTRAINT `attachments_message_id_messages_id_fk` FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `delivery_attempts` ADD CONSTRAINT `delivery_attempts_message_id_messages_id_fk` FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `message_headers` ADD CONSTRAINT `message_headers_message_id_messages_id_fk` FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `message_recipients` ADD CONSTRAINT `message_recipients_message_id_messages_id_fk` FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `messages` ADD CONSTRAINT `messages_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `campaign_stats` ADD CONSTRAINT `campaign_stats_campaign_id_campaigns_id_fk` FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `campaigns` ADD CONSTRAINT `campaigns_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `recipient_list_members` ADD CONSTRAINT `recipient_list_members_list_id_recipient_lists_id_fk` FOREIGN KEY (`list_id`) REFERENCES `recipient_lists`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `recipient_list_members` ADD CONSTRAINT `recipient_list_members_recipient_id_recipients_id_fk` FOREIGN KEY (`recipient_id`) REFERENCES `recipients`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `recipient_lists` ADD CONSTRAINT `recipient_lists_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `recipients` ADD CONSTRAINT `recipients_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `webhook_attempts` ADD CONSTRAINT `webhook_attempts_event_id_webhook_events_id_fk` FOREIGN KEY (`event_id`) REFERENCES `webhook_events`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD CONSTRAINT `webhook_endpoints_workspace_id_workspaces_id_fk` FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `api_keys_workspace` ON `api_keys` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `audit_logs_workspace` ON `audit_logs` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `sender_domains_workspace` ON `sender_domains` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `workspace_security_issuer` ON `workspace_security` (`jwt_issuer`);--> statement-breakpoint
CREATE INDEX `health_checks_provider` ON `health_checks` (`provider_id`,`checked_at`);--> statement-breakpoint
CREATE INDEX `provider_webhook_tokens_created` ON `provider_webhook_tokens` (`created_at`);--> statement-breakpoint
CREATE INDEX `providers_workspace` ON `providers` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `rate_limits_workspace` ON `rate_limits` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `attachments_message` ON `attachments` (`message_id`);--> statement-breakpoint
CREATE INDEX `delivery_attempts_message` ON `delivery_attempts` (`message_id`);--> statement-breakpoint
CREATE INDEX `message_headers_message` ON `message_headers` (`message_id`);--> statement-breakpoint
CREATE INDEX `message_recipients_sending_lease` ON `message_recipients` (`status`,`lease_until`);--> statement-breakpoint
CREATE INDEX `message_recipients_workspace_email` ON `message_recipients` (`workspace_id`,`email`);--> statement-breakpoint
CREATE INDEX `message_recipients_workspace_message` ON `message_recipients` (`workspace_id`,`message_id`);--> statement-breakpoint
CREATE INDEX `message_recipients_provider_message` ON `message_recipients` (`provider_message_id`);--> statement-breakpoint
CREATE INDEX `messages_workspace_queued` ON `messages` (`workspace_id`,`queued_at`);--> statement-breakpoint
CREATE INDEX `messages_workspace_status` ON `messages` (`workspace_id`,`status`);--> statement-breakpoint
CREATE INDEX `messages_status_enqueued` ON `messages` (`status`,`enqueued_at`);--> statement-breakpoint
CREATE INDEX `messages_workspace_msgid` ON `messages` (`workspace_id`,`message_id_header`);--> statement-breakpoint
CREATE INDEX `messages_msgid` ON `messages` (`message_id_header`);--> statement-breakpoint
CREATE INDEX `messages_workspace_waiting` ON `messages` (`workspace_id`,`waiting_on`,`not_before`);--> statement-breakpoint
CREATE INDEX `campaigns_workspace` ON `campaigns` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `recipient_events_recipient` ON `recipient_events` (`recipient_id`);--> statement-breakpoint
CREATE INDEX `recipient_events_workspace` ON `recipient_events` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `recipients_workspace_email_lower` ON `recipients` (`workspace_id`,`email_lower`);--> statement-breakpoint
CREATE INDEX `webhook_attempts_event` ON `webhook_attempts` (`event_id`,`attempt`);--> statement-breakpoint
CREATE INDEX `webhook_endpoints_workspace` ON `webhook_endpoints` (`workspace_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_status` ON `webhook_events` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_events_message` ON `webhook_events` (`message_id`);--> statement-breakpoint
CREATE INDEX `webhook_events_endpoint` ON `webhook_events` (`endpoint_id`,`created_at`);