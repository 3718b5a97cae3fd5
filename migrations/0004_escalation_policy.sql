CREATE TYPE "public"."sla_state" AS ENUM('ok', 'warning', 'breached', 'met');--> statement-breakpoint
CREATE TYPE "public"."timeline_type" AS ENUM('created', 'assessed', 'picked_up', 'released', 'reescalated', 'sla_warning', 'sla_breached', 'resolved', 'cancelled');--> statement-breakpoint
CREATE TABLE "escalation_policies" (
	"account_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escalation_policies_account_id_version_pk" PRIMARY KEY("account_id","version")
);
--> statement-breakpoint
CREATE TABLE "handoff_timeline" (
	"handoff_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"account_id" uuid NOT NULL,
	"type" timeline_type NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"actor_name" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "handoff_timeline_handoff_id_version_pk" PRIMARY KEY("handoff_id","version")
);
--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "first_picked_up_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "policy_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "pickup_warn_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "pickup_due_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "resolve_warn_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "resolve_due_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "pickup_sla" "sla_state" DEFAULT 'ok' NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "resolve_sla" "sla_state" DEFAULT 'ok' NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "level" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "notify" jsonb DEFAULT '"everyone"'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "reescalations" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "handoffs" ADD COLUMN "next_level_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "escalation_policies" ADD CONSTRAINT "escalation_policies_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "handoff_timeline" ADD CONSTRAINT "handoff_timeline_handoff_id_handoffs_id_fk" FOREIGN KEY ("handoff_id") REFERENCES "public"."handoffs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- hand-written: clocks for the handoffs created before policies existed, from the default policy
-- (warn at 0.75 of each window), stated as of this migration. No timer is armed for them and no
-- re-escalation is scheduled: their next change publishes a card the hub arms timers from.
WITH d(severity, pickup_s, resolve_s) AS (
  VALUES ('urgent'::handoff_severity, 300, 14400), ('high', 900, 28800), ('normal', 3600, 86400), ('low', 14400, 259200)
)
UPDATE "handoffs" h SET
  "pickup_warn_at" = h.created_at + make_interval(secs => d.pickup_s * 0.75),
  "pickup_due_at" = h.created_at + make_interval(secs => d.pickup_s),
  "resolve_warn_at" = h.created_at + make_interval(secs => d.resolve_s * 0.75),
  "resolve_due_at" = h.created_at + make_interval(secs => d.resolve_s),
  "pickup_sla" = (CASE
    WHEN coalesce(h.picked_up_at, h.closed_at, now()) > h.created_at + make_interval(secs => d.pickup_s) THEN 'breached'
    WHEN h.picked_up_at IS NOT NULL OR h.closed_at IS NOT NULL THEN 'met'
    ELSE 'ok' END)::sla_state,
  "resolve_sla" = (CASE
    WHEN coalesce(h.closed_at, now()) > h.created_at + make_interval(secs => d.resolve_s) THEN 'breached'
    WHEN h.closed_at IS NOT NULL THEN 'met'
    ELSE 'ok' END)::sla_state,
  "first_picked_up_at" = h.picked_up_at,
  "notify" = CASE WHEN h.intent = 'transfer' AND h.to_user_id IS NOT NULL
    THEN jsonb_build_array(h.to_user_id::text) ELSE '"everyone"'::jsonb END
FROM d WHERE d.severity = h.severity AND h.pickup_due_at IS NULL;--> statement-breakpoint
INSERT INTO "handoff_timeline" ("handoff_id", "version", "account_id", "type", "at", "actor_id", "actor_name", "details")
SELECT h.id, 1, h.account_id, 'created', h.created_at, h.created_by, u.name,
       jsonb_build_object('intent', h.intent, 'severity', h.severity, 'reason', h.reason, 'to_user_id', h.to_user_id, 'policy_version', 0)
FROM "handoffs" h LEFT JOIN "users" u ON u.account_id = h.account_id AND u.id = h.created_by
ON CONFLICT DO NOTHING;
