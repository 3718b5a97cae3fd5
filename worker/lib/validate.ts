import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors';

/**
 * zValidator with our error shape: a 400 whose details name each failing field, so routes read
 * only `c.req.valid(...)` and never see unvalidated input.
 */
export const validate = <T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T,
) =>
  zValidator(target, schema, (result) => {
    if (!result.success) {
      const details = result.error.issues.map((i) => ({
        field: i.path.map(String).join('.') || target,
        message: i.message,
      }));
      const fields = [...new Set(details.map((d) => d.field))].join(', ');
      throw new ApiError(400, 'validation_failed', `invalid ${target}: ${fields}`, details);
    }
  });
