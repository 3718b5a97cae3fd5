import { sql } from 'drizzle-orm';
import { DEMO_ACCOUNT_ID, DEMO_USERS } from '../../worker/dev/demo-users';
import { connectNode } from './neon-node';

/** The demo account with two engineers and an admin; safe to run on every start. */
export async function seedDemo(databaseUrl: string): Promise<void> {
  const conn = await connectNode(databaseUrl);
  try {
    await conn.db.execute(sql`insert into accounts (id) values (${DEMO_ACCOUNT_ID}) on conflict do nothing`);
    for (const u of DEMO_USERS) {
      await conn.db.execute(sql`
        insert into users (account_id, id, name, role) values (${DEMO_ACCOUNT_ID}, ${u.id}, ${u.name}, ${u.role})
        on conflict (account_id, id) do update set name = excluded.name, role = excluded.role`);
    }
  } finally {
    await conn.close();
  }
}
