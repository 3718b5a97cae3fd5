import type { Role } from '../contract/statuses';

// The demo account `npm run dev` seeds, `npm run token` defaults to and the dev sign-in screen
// (the Worker's /dev/tokens) offers.
export const DEMO_ACCOUNT_ID = '5b0a6d1e-0000-4000-8000-00000000d3e0';

export const DEMO_USERS = [
  { id: '5b0a6d1e-0000-4000-8000-0000000a11ce', name: 'Alice Engineer', role: 'engineer' },
  { id: '5b0a6d1e-0000-4000-8000-000000000b0b', name: 'Bob Engineer', role: 'engineer' },
  { id: '5b0a6d1e-0000-4000-8000-00000000ad31', name: 'Ada Admin', role: 'admin' },
] as const;

/**
 * What `GET /dev/tokens` answers in dev mode. The route is dev-only and not part of the API
 * description, so the sign-in screen takes its shape from here.
 */
export interface DevTokens {
  account_id: string;
  users: { id: string; name: string; role: Role; token: string }[];
}
