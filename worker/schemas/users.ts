import { z } from '@hono/zod-openapi';
import { ROLES } from '../contract/statuses';
import { Timestamp, Uuid } from './common';

export const AccountUserSchema = z
  .object({ id: Uuid, name: z.string(), role: z.enum(ROLES), last_seen_at: Timestamp })
  .openapi('AccountUser');
