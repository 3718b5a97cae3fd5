import { z } from 'zod';
import { canonicalUuid } from '../lib/canonical-uuid';

// Path ids are UUIDs; any spelling is accepted and canonicalised, anything else is a 400.
export const uuidParam = z.string().transform((v, ctx) => {
  const id = canonicalUuid(v);
  if (!id) {
    ctx.addIssue({ code: 'custom', message: 'must be a UUID' });
    return z.NEVER;
  }
  return id;
});

export const idParam = z.object({ id: uuidParam });
