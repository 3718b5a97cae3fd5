import { type SQL, sql } from 'drizzle-orm';

// When a write happens. Every store statement records its times from the database's own `now()`:
// one clock for every Worker and hub, and the time the change committed. The demo seed
// (worker/dev/demo-seed.ts) writes a week of history through the very same statements, so those
// statements take an optional instant `at` and use it where they would use `now()`; nothing else
// passes one, so the statements the API runs are unchanged (docs/demo.md, "Time").

/** An instant a store statement records instead of the database's `now()`; absent in real use. */
export type At = Date | undefined;

/** `now()`, or the given instant as a `timestamptz` literal. */
export const nowSql = (at?: At): SQL => (at ? sql`${at.toISOString()}::timestamptz` : sql`now()`);

/** A column value for drizzle's `.values()`/`.set()`: the instant, or the database's `now()`. */
export const nowValue = (at?: At): Date | SQL => at ?? sql`now()`;
