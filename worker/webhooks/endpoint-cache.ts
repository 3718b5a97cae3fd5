import type { WebhookDisabledReason, WebhookFormat } from '../contract/statuses';
import type { WebhookEndpointRow } from '../db/schema';
import type { LoggedEvent } from '../hub/hub-module';
import type { NewDelivery } from './webhook-store';

// The webhooks module's own tables in the hub's SQLite:
// - `webhook_endpoints`: the account's endpoints as Postgres has them (refreshed after every
//   change), plus what only the hub knows: since when an endpoint has been failing, and a disable
//   the hub decided that Postgres has not recorded yet;
// - `webhook_attempts`: delivery attempts made but not yet copied to Postgres;
// - `webhook_backlog`: events logged before the endpoints were first loaded;
// - `webhook_meta`: whether they have been.

export function createWebhookTables(sql: SqlStorage): void {
  sql.exec(`create table if not exists webhook_endpoints (
    id text primary key,
    url text not null,
    format text not null,
    events text not null,
    enabled integer not null,
    secret text not null,
    previous_secret text,
    previous_expires_at integer,
    version integer not null,
    disabled_reason text,
    disable_pending integer not null default 0,
    failing_since integer
  )`);
  sql.exec(
    'create table if not exists webhook_attempts (id text primary key, at integer not null, row text not null)',
  );
  sql.exec(
    'create table if not exists webhook_backlog (seq integer primary key autoincrement, event text not null)',
  );
  sql.exec('create table if not exists webhook_meta (key text primary key, value text not null)');
}

export interface CachedEndpoint {
  id: string;
  url: string;
  format: WebhookFormat;
  events: string[];
  enabled: boolean;
  secret: string;
  previousSecret: string | null;
  previousExpiresAt: number | null;
  version: number;
  disabledReason: WebhookDisabledReason | null;
  disablePending: boolean;
  failingSince: number | null;
}

type Row = {
  id: string;
  url: string;
  format: string;
  events: string;
  enabled: number;
  secret: string;
  previous_secret: string | null;
  previous_expires_at: number | null;
  version: number;
  disabled_reason: string | null;
  disable_pending: number;
  failing_since: number | null;
};

const fromRow = (r: Row): CachedEndpoint => ({
  id: r.id,
  url: r.url,
  format: r.format as WebhookFormat,
  events: JSON.parse(r.events) as string[],
  enabled: r.enabled === 1,
  secret: r.secret,
  previousSecret: r.previous_secret,
  previousExpiresAt: r.previous_expires_at,
  version: r.version,
  disabledReason: r.disabled_reason as WebhookDisabledReason | null,
  disablePending: r.disable_pending === 1,
  failingSince: r.failing_since,
});

/** A delivery row as the hub keeps it until Postgres has it (times in ms). */
export type PendingDelivery = Omit<NewDelivery, 'createdAt' | 'nextAttemptAt'> & {
  createdAt: number;
  nextAttemptAt: number | null;
};

export class EndpointCache {
  constructor(private readonly sql: SqlStorage) {}

  loaded(): boolean {
    return this.sql.exec("select 1 from webhook_meta where key = 'loaded_at'").toArray().length > 0;
  }

  all(): CachedEndpoint[] {
    return this.sql.exec<Row>('select * from webhook_endpoints').toArray().map(fromRow);
  }

  get(id: string): CachedEndpoint | undefined {
    const [row] = this.sql.exec<Row>('select * from webhook_endpoints where id = ?', id).toArray();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Makes the copy what Postgres says, keeping what only the hub knows: a disable not yet
   * recorded there stays unless the endpoint changed since (an admin's change wins), and the
   * failure clock restarts when the endpoint is enabled again or points somewhere else.
   */
  replaceAll(rows: WebhookEndpointRow[], now: number): void {
    const before = new Map(this.all().map((e) => [e.id, e]));
    this.sql.exec('delete from webhook_endpoints');
    for (const r of rows) {
      const old = before.get(r.id);
      const keepDisable = old?.disablePending === true && old.version === r.version;
      const enabled = keepDisable ? false : r.enabled;
      const restarted = !old || old.url !== r.url || (enabled && !old.enabled);
      this.sql.exec(
        `insert into webhook_endpoints (id, url, format, events, enabled, secret, previous_secret,
           previous_expires_at, version, disabled_reason, disable_pending, failing_since)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        r.id,
        r.url,
        r.format,
        JSON.stringify(r.events),
        enabled ? 1 : 0,
        r.secret,
        r.previousSecret,
        r.previousSecretExpiresAt?.getTime() ?? null,
        r.version,
        keepDisable ? old.disabledReason : r.disabledReason,
        keepDisable ? 1 : 0,
        restarted ? null : (old?.failingSince ?? null),
      );
    }
    this.sql.exec(
      "insert into webhook_meta (key, value) values ('loaded_at', ?) on conflict (key) do update set value = excluded.value",
      String(now),
    );
  }

  /** Stops the failure clock; an endpoint that was not failing costs no row write (most deliveries). */
  succeeded(id: string): void {
    this.sql.exec(
      'update webhook_endpoints set failing_since = null where id = ? and failing_since is not null',
      id,
    );
  }

  /** Notes a failed attempt; returns since when the endpoint has failed every attempt. */
  failed(id: string, now: number): number {
    this.sql.exec(
      'update webhook_endpoints set failing_since = coalesce(failing_since, ?) where id = ?',
      now,
      id,
    );
    return this.get(id)?.failingSince ?? now;
  }

  /** Stops deliveries now; the log-sync job records it in Postgres. */
  disable(id: string, reason: WebhookDisabledReason): void {
    this.sql.exec(
      'update webhook_endpoints set enabled = 0, disabled_reason = ?, disable_pending = 1 where id = ?',
      reason,
      id,
    );
  }

  pendingDisables(): CachedEndpoint[] {
    return this.sql
      .exec<Row>('select * from webhook_endpoints where disable_pending = 1')
      .toArray()
      .map(fromRow);
  }

  /** Postgres has the disable (at `version`), or refused it because the endpoint changed (undefined). */
  disableRecorded(id: string, version: number | undefined): void {
    if (version === undefined)
      this.sql.exec('update webhook_endpoints set disable_pending = 0 where id = ?', id);
    else
      this.sql.exec(
        'update webhook_endpoints set disable_pending = 0, version = ? where id = ?',
        version,
        id,
      );
  }

  recordAttempt(row: PendingDelivery): void {
    this.sql.exec(
      'insert or replace into webhook_attempts (id, at, row) values (?, ?, ?)',
      row.id,
      row.createdAt,
      JSON.stringify(row),
    );
  }

  attempts(limit: number): PendingDelivery[] {
    return this.sql
      .exec<{ row: string }>('select row from webhook_attempts order by at limit ?', limit)
      .toArray()
      .map((r) => JSON.parse(r.row) as PendingDelivery);
  }

  attemptCount(): number {
    return this.sql.exec<{ n: number }>('select count(*) as n from webhook_attempts').one().n;
  }

  deleteAttempts(ids: string[]): void {
    for (const id of ids) this.sql.exec('delete from webhook_attempts where id = ?', id);
  }

  /** Keeps an event that arrived before the endpoints were loaded, to be matched once they are. */
  addBacklog(event: LoggedEvent): void {
    this.sql.exec('insert into webhook_backlog (event) values (?)', JSON.stringify(event));
  }

  takeBacklog(): LoggedEvent[] {
    const events = this.sql
      .exec<{ event: string }>('select event from webhook_backlog order by seq')
      .toArray()
      .map((r) => JSON.parse(r.event) as LoggedEvent);
    this.sql.exec('delete from webhook_backlog');
    return events;
  }
}
