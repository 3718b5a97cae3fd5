import type { Role } from '../contract/statuses';

export type { Role };

/** Who is calling, from a verified token; `accountId` is canonical (lower-case, hyphenated). */
export interface Identity {
  userId: string;
  accountId: string;
  role: Role;
  name: string;
}
