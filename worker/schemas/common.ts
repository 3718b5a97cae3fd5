import { z } from '@hono/zod-openapi';
import { canonicalUuid } from '../lib/canonical-uuid';

// Schemas every resource's API uses.

// Path ids are UUIDs; any spelling is accepted and canonicalised, anything else is a 400.
export const uuidParam = z
  .string()
  .transform((v, ctx) => {
    const id = canonicalUuid(v);
    if (!id) {
      ctx.addIssue({ code: 'custom', message: 'must be a UUID' });
      return z.NEVER;
    }
    return id;
  })
  .openapi({ format: 'uuid', example: '5b0a6d1e-0000-4000-8000-0000000a11ce' });

export const IdParam = z.object({ id: uuidParam });

/** Ids the API answers with: always canonical (lower-case, hyphenated). */
export const Uuid = z.uuid();

/** A time in an answer: ISO 8601 in UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const Timestamp = z.iso.datetime();

/**
 * A named schema or null. Written as a union: `.nullable()` on a named schema loses the null (or
 * makes an `allOf` no value satisfies) in the generated description.
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

/** One page of a list: `next_cursor` is null on the last page. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page' }),
  });

/**
 * The `Idempotency-Key` request header of a create: 1 to 200 visible ASCII characters. `what` says
 * what the same key and body answer.
 */
export const idempotencyHeaders = (what: string) =>
  z.object({
    'idempotency-key': z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'must be 1 to 200 visible ASCII characters')
      .optional()
      .openapi({ description: what }),
  });

/**
 * A query parameter that takes one or more values of a closed list: comma-separated
 * (`status=open,picked_up`) or the parameter repeated (`status=open&status=picked_up`), as a
 * browser's URL or a generated client sends it. Answers the distinct values, in the list's order.
 */
export const oneOrMoreOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v, ctx) => {
      const parts = (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean);
      if (parts.length === 0 || parts.some((p) => !(values as readonly string[]).includes(p))) {
        ctx.addIssue({
          code: 'custom',
          message: `must be one or more of ${values.join(', ')}, comma-separated`,
        });
        return z.NEVER;
      }
      return values.filter((value) => parts.includes(value)) as T[number][];
    })
    .openapi({
      description: `One or more of ${values.join(', ')}: comma-separated, or the parameter repeated`,
      example: values.slice(0, 2).join(','),
    });
