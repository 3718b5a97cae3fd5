CREATE TABLE "handoff_rate" (
	"account_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"recent" timestamp with time zone[] DEFAULT '{}' NOT NULL,
	CONSTRAINT "handoff_rate_account_id_user_id_pk" PRIMARY KEY("account_id","user_id")
);
--> statement-breakpoint
CREATE INDEX "outbox_published_idx" ON "outbox" USING btree ("account_id","published_at") WHERE "outbox"."published_at" is not null;