CREATE TABLE "usage_daily" (
	"account_id" uuid NOT NULL,
	"day" date NOT NULL,
	"events_published" bigint DEFAULT 0 NOT NULL,
	"deliveries" bigint DEFAULT 0 NOT NULL,
	"runs_started" bigint DEFAULT 0 NOT NULL,
	"nodes_executed" bigint DEFAULT 0 NOT NULL,
	"llm_prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"llm_completion_tokens" bigint DEFAULT 0 NOT NULL,
	"webhook_deliveries" bigint DEFAULT 0 NOT NULL,
	"hub_wakeups" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_daily_account_id_day_pk" PRIMARY KEY("account_id","day")
);
