// The demo account `npm run dev` seeds and `npm run token` defaults to.
export const DEMO_ACCOUNT_ID = '5b0a6d1e-0000-4000-8000-00000000d3e0';

export const DEMO_USERS = [
  { id: '5b0a6d1e-0000-4000-8000-0000000a11ce', name: 'Alice Engineer', role: 'engineer' },
  { id: '5b0a6d1e-0000-4000-8000-000000000b0b', name: 'Bob Engineer', role: 'engineer' },
  { id: '5b0a6d1e-0000-4000-8000-00000000ad31', name: 'Ada Admin', role: 'admin' },
] as const;
