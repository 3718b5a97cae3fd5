// npm run token -- --role engineer [--account UUID] [--user UUID] [--name NAME] [--ttl SECONDS]
// Prints a dev token signed with JWT_SECRET (from the environment or .dev.vars), and nothing else.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isOneOf, ROLES } from '../worker/contract/statuses';
import { DEMO_ACCOUNT_ID, DEMO_USERS } from '../worker/dev/demo-users';
import { signToken } from '../worker/dev/sign-token';
import { ensureDevVars } from './lib/dev-vars';

function fail(message: string): never {
  console.error(`npm run token: ${message}`);
  process.exit(2);
}

let values: { role?: string; account?: string; user?: string; name?: string; ttl?: string };
try {
  ({ values } = parseArgs({
    options: {
      role: { type: 'string', default: 'engineer' },
      account: { type: 'string' },
      user: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string', default: String(12 * 3600) },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const role = values.role;
if (!isOneOf(ROLES, role)) fail(`--role must be one of ${ROLES.join(', ')}`);
const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const account = values.account ?? DEMO_ACCOUNT_ID;
if (!uuid.test(account)) fail('--account must be a UUID');
const demoUser = account === DEMO_ACCOUNT_ID ? DEMO_USERS.find((u) => u.role === role) : undefined;
const user = values.user ?? demoUser?.id ?? randomUUID();
if (!uuid.test(user)) fail('--user must be a UUID');
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
const secret = process.env.JWT_SECRET ?? ensureDevVars().JWT_SECRET;
if (!secret) fail('JWT_SECRET is not set and .dev.vars has none');

process.stdout.write(
  `${await signToken({ sub: user, acct: account, role, name: values.name ?? demoUser?.name ?? `Dev ${role}` }, secret, ttl)}\n`,
);
