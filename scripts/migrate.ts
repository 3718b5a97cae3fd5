// npm run db:migrate: applies migrations/ to DATABASE_URL (any server, Neon included).
import { migrateDatabase } from './lib/migrate';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    'DATABASE_URL is not set: name the database to migrate, e.g. DATABASE_URL=postgres://… npm run db:migrate',
  );
  process.exit(2);
}
await migrateDatabase(url);
console.error('migrations applied');
