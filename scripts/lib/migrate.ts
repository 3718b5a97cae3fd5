import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/neon-serverless/migrator';
import { connectNode } from './neon-node';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Applies every migration in migrations/ not yet applied; running it twice changes nothing. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const conn = await connectNode(databaseUrl);
  try {
    await migrate(conn.db, { migrationsFolder });
  } finally {
    await conn.close();
  }
}
