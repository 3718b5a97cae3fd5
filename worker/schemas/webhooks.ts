import { z } from '@hono/zod-openapi';
import { WEBHOOK_EVENT_PATTERNS, WEBHOOK_EVENT_TYPES } from '../contract/events';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_DISABLED_REASONS, WEBHOOK_FORMATS } from '../contract/statuses';
import type { WebhookDeliveryRow, WebhookEndpointRow } from '../db/schema';
import { pageQuery } from '../lib/pagination';
import { MAX_WEBHOOK_URL_LENGTH } from '../webhooks/webhook-target';
import { Timestamp, Uuid } from './common';

// Outbound webhook endpoints and their delivery log, as the API takes and gives them
// (DESIGN.md "Outbound webhooks and Slack"; docs/webhooks.md).

const url = z.string().trim().min(1).max(MAX_WEBHOOK_URL_LENGTH).openapi({
  description:
    'https only; http and private or loopback addresses only for hosts in WEBHOOK_ALLOW_HOSTS; no credentials. A refused URL is 400 `invalid_url` naming the reason',
  example: 'https://hooks.example.com/switchboard',
});

const selector = z.enum([...WEBHOOK_EVENT_TYPES, ...WEBHOOK_EVENT_PATTERNS]);
const events = z
  .array(selector)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + WEBHOOK_EVENT_PATTERNS.length)
  .transform((list) => [...new Set(list)])
  .openapi({
    description: 'Event types, or patterns (`escalation.*`, `run.*`, `*`)',
    example: ['escalation.*'],
  });

const format = z
  .enum(WEBHOOK_FORMATS)
  .openapi({ description: '`standard`: Standard Webhooks JSON; `slack`: a Slack incoming-webhook message' });

const description = z.string().trim().max(500);

export const CreateWebhookBody = z
  .strictObject({ url, events, format: format.default('standard'), description: description.optional() })
  .openapi('CreateWebhook');

export const UpdateWebhookBody = z
  .strictObject({
    url: url.optional(),
    events: events.optional(),
    format: format.optional(),
    description: description.nullable().optional(),
    enabled: z.boolean().optional(),
    rotate_secret: z
      .literal(true)
      .optional()
      .openapi({ description: 'A new secret (answered once); the old one keeps signing for 24 h' }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'nothing to change' })
  .openapi('UpdateWebhook');

export const WebhookSchema = z
  .object({
    id: Uuid,
    url: z.string(),
    format,
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    disabled_reason: z.enum(WEBHOOK_DISABLED_REASONS).nullable().openapi({
      description: 'Why Switchboard disabled it: `gone` (answered 410), `failing` (5 days of failures)',
    }),
    previous_secret_expires_at: Timestamp.nullable().openapi({
      description: 'After a rotation: until when deliveries also carry a signature under the old secret',
    }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Webhook');

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({ description: 'The signing secret (`whsec_…`): shown only in this answer' }),
}).openapi('WebhookWithSecret');

export const DeliveryListQuery = pageQuery.extend({ status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional() });

export const DeliverySchema = z
  .object({
    id: Uuid,
    event_id: z
      .string()
      .openapi({ description: 'The `webhook-id` header: the same for every attempt of one event' }),
    type: z.string(),
    attempt: z.int(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    response_status: z.int().nullable(),
    response_body: z.string().nullable().openapi({ description: 'The first 1 KiB of the answer' }),
    duration_ms: z.int().nullable(),
    error: z.string().nullable(),
    at: Timestamp,
    next_attempt_at: Timestamp.nullable(),
  })
  .openapi('WebhookDelivery');

export const WebhookTestSchema = z
  .object({ event_id: z.string(), status: z.literal('queued') })
  .openapi('WebhookTest');

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const webhookJson = (r: WebhookEndpointRow): z.infer<typeof WebhookSchema> => ({
  id: r.id,
  url: r.url,
  format: r.format,
  events: r.events,
  description: r.description,
  enabled: r.enabled,
  disabled_reason: r.disabledReason,
  previous_secret_expires_at:
    r.previousSecretExpiresAt && r.previousSecretExpiresAt.getTime() > Date.now()
      ? r.previousSecretExpiresAt.toISOString()
      : null,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
});

export const deliveryJson = (r: WebhookDeliveryRow): z.infer<typeof DeliverySchema> => ({
  id: r.id,
  event_id: r.eventId,
  type: r.type,
  attempt: r.attempt,
  status: r.status,
  response_status: r.responseStatus,
  response_body: r.responseBody,
  duration_ms: r.durationMs,
  error: r.error,
  at: r.createdAt.toISOString(),
  next_attempt_at: iso(r.nextAttemptAt),
});
