import type { HubMigration } from './hub-module';

export interface VersionedSchema {
  readonly name: string;
  readonly migrations: readonly HubMigration[];
}

/**
 * One `schema_version` table for the whole hub: a row per module with the number of its
 * migrations applied. Each migration runs in its own transaction together with the version bump,
 * so a hub stopped half-way resumes at the first migration not applied.
 *
 * Hubs created before this table existed already hold tables made by `create table if not exists`
 * statements; every module's first migration is exactly those statements, so such a hub upgrades
 * in place: its log, runs and jobs are kept.
 */
export function migrateHubSchema(storage: DurableObjectStorage, schemas: readonly VersionedSchema[]): void {
  const sql = storage.sql;
  sql.exec(`create table if not exists schema_version (
    module text primary key,
    version integer not null
  )`);
  for (const schema of schemas) {
    const current =
      sql
        .exec<{ version: number }>('select version from schema_version where module = ?', schema.name)
        .toArray()[0]?.version ?? 0;
    if (current > schema.migrations.length) {
      // Written by newer code (a rollback of a deploy): running on would misread its tables.
      throw new Error(
        `hub schema of module "${schema.name}" is at version ${current}, newer than this code's ${schema.migrations.length}`,
      );
    }
    for (let version = current; version < schema.migrations.length; version++) {
      const migrate = schema.migrations[version] as HubMigration;
      storage.transactionSync(() => {
        migrate(sql);
        sql.exec(
          `insert into schema_version (module, version) values (?, ?)
           on conflict (module) do update set version = excluded.version`,
          schema.name,
          version + 1,
        );
      });
    }
  }
}

/** The versions recorded for each module (for tests and diagnostics). */
export function hubSchemaVersions(sql: SqlStorage): Record<string, number> {
  return Object.fromEntries(
    sql
      .exec<{ module: string; version: number }>('select module, version from schema_version')
      .toArray()
      .map((r) => [r.module, r.version]),
  );
}
