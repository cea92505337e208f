CREATE TABLE "actions_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"plugin_id" text NOT NULL,
	"event_id" char(64),
	"action" text NOT NULL,
	"status" text NOT NULL,
	"error" text,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"token_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"token_hash" text NOT NULL,
	"scope" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash"),
	CONSTRAINT "api_tokens_kind_check" CHECK ("api_tokens"."kind" in ('admin', 'overlay', 'api'))
);
--> statement-breakpoint
CREATE TABLE "erasures" (
	"erasure_id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"subject_hmac" text NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"rows_affected" integer DEFAULT 0 NOT NULL,
	"tables_touched" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"event_id" char(64) PRIMARY KEY NOT NULL,
	"session_id" uuid NOT NULL,
	"stream_id" text NOT NULL,
	"event_type" text NOT NULL,
	"trigger_id" smallint NOT NULL,
	"schema_version" text NOT NULL,
	"user_id" text NOT NULL,
	"raw_type" text,
	"seq_no" text,
	"ingest_seq" bigint,
	"timestamp" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"event_data" jsonb NOT NULL,
	"ingested_at" timestamp with time zone,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	"archived_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "plugin_kv" (
	"plugin_id" text NOT NULL,
	"key" text NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "plugin_kv_plugin_id_key_pk" PRIMARY KEY("plugin_id","key")
);
--> statement-breakpoint
CREATE TABLE "plugins" (
	"plugin_id" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"granted_permissions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text DEFAULT 'installed' NOT NULL,
	"last_error" text,
	"fault_count" integer DEFAULT 0 NOT NULL,
	"installed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"session_id" uuid PRIMARY KEY NOT NULL,
	"stream_id" text NOT NULL,
	"type" text NOT NULL,
	"provider" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "sessions_type_check" CHECK ("sessions"."type" in ('live', 'replay'))
);
--> statement-breakpoint
CREATE TABLE "streams" (
	"stream_id" text PRIMARY KEY NOT NULL,
	"unique_id" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"tiktok_user_id" text PRIMARY KEY NOT NULL,
	"unique_id" text NOT NULL,
	"display_name" text,
	"avatar_url" text,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"event_count" bigint DEFAULT 0 NOT NULL,
	"pseudonymized_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "actions_log_plugin_created_idx" ON "actions_log" USING btree ("plugin_id","created_at");--> statement-breakpoint
CREATE INDEX "actions_log_created_idx" ON "actions_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "events_session_ingest_seq_idx" ON "events" USING btree ("session_id","ingest_seq");--> statement-breakpoint
CREATE INDEX "events_session_timestamp_idx" ON "events" USING btree ("session_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_type_timestamp_idx" ON "events" USING btree ("event_type","timestamp");--> statement-breakpoint
CREATE INDEX "events_user_timestamp_idx" ON "events" USING btree ("user_id","timestamp");--> statement-breakpoint
CREATE INDEX "events_event_data_idx" ON "events" USING gin ("event_data" jsonb_path_ops);--> statement-breakpoint
CREATE INDEX "sessions_stream_started_idx" ON "sessions" USING btree ("stream_id","started_at");--> statement-breakpoint
CREATE INDEX "users_unique_id_idx" ON "users" USING btree ("unique_id");