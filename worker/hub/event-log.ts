import { sseFrame, sseFrameJson } from '../lib/sse-frame';

/** No SSE frame is larger than this (DESIGN.md "Limits and hardening"): 1 MiB. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** An event whose frame would pass MAX_FRAME_BYTES; nothing was logged. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  constructor(type: string, bytes: number) {
    super(
      `the ${type} event would be a stream frame of ${bytes} bytes, over the 1 MiB limit on a frame (${MAX_FRAME_BYTES} bytes)`,
    );
  }
}

const utf8 = new TextEncoder();

/** Throws FrameTooLargeError when `frame` is over MAX_FRAME_BYTES (encoded only when it might be). */
export function checkFrameSize(type: string, frame: string): void {
  if (frame.length * 3 <= MAX_FRAME_BYTES) return;
  const bytes = utf8.encode(frame).byteLength;
  if (bytes > MAX_FRAME_BYTES) throw new FrameTooLargeError(type, bytes);
}

export interface AppendResult {
  id: number;
  frame: string;
  duplicate: boolean;
}

export type ResumePoint =
  | { kind: 'ok' }
  | { kind: 'reset'; reason: 'too_old' | 'unknown'; lastId: number; frame: string };

export interface ReplayFrames {
  frames: { id: number; text: string }[];
  lastId: number;
  done: boolean;
}

export interface ReplayPage {
  /** Whole frames, concatenated. */
  text: string;
  /** The id of the last frame in the page (or `after` when the page is empty). */
  lastId: number;
  /** True when the page reached the end of the log. */
  done: boolean;
}

/** The log's tables (the host schema's first migration). */
export function createEventLogTables(sql: SqlStorage): void {
  sql.exec(`create table if not exists topics (
    topic text primary key,
    last_id integer not null default 0,
    purged_through integer not null default 0
  )`);
  sql.exec(`create table if not exists events (
    topic text not null,
    id integer not null,
    type text not null,
    data text not null,
    dedupe_key text,
    created_at integer not null,
    primary key (topic, id)
  ) without rowid`);
  sql.exec(
    'create unique index if not exists events_dedupe on events (topic, dedupe_key) where dedupe_key is not null',
  );
  sql.exec('create index if not exists events_created on events (topic, created_at)');
}

/**
 * An append-only event log per topic in the hub's SQLite storage. Ids are sequential per topic,
 * assigned and stored before anything is sent, and never reused: the topic row keeps the last id
 * even after old events are purged.
 */
export class EventLog {
  constructor(private readonly sql: SqlStorage) {}

  lastId(topic: string): number {
    const row = this.sql
      .exec<{ last_id: number }>('select last_id from topics where topic = ?', topic)
      .toArray()[0];
    return row?.last_id ?? 0;
  }

  /** Appends unless `dedupeKey` was already logged on this topic (then returns the original id). */
  append(topic: string, type: string, data: unknown, dedupeKey?: string, now = Date.now()): AppendResult {
    if (dedupeKey !== undefined) {
      const seen = this.sql
        .exec<{ id: number; type: string; data: string }>(
          'select id, type, data from events where topic = ? and dedupe_key = ?',
          topic,
          dedupeKey,
        )
        .toArray()[0];
      if (seen) return { id: seen.id, frame: frameOf(seen), duplicate: true };
    }
    const json = JSON.stringify(data);
    // Ids take at most 16 digits; checked on the longest the frame can be, before anything is written.
    checkFrameSize(type, frameOf({ id: Number.MAX_SAFE_INTEGER, type, data: json }));
    const row = this.sql
      .exec<{ last_id: number }>(
        `insert into topics (topic, last_id) values (?, 1)
         on conflict (topic) do update set last_id = last_id + 1 returning last_id`,
        topic,
      )
      .one();
    this.sql.exec(
      'insert into events (topic, id, type, data, dedupe_key, created_at) values (?, ?, ?, ?, ?, ?)',
      topic,
      row.last_id,
      type,
      json,
      dedupeKey ?? null,
      now,
    );
    return { id: row.last_id, frame: frameOf({ id: row.last_id, type, data: json }), duplicate: false };
  }

  /**
   * Whether a subscriber may resume after `after`: not when it is newer than anything logged
   * (`unknown`) or older than what is retained (`too_old`); then it gets a `reset` frame whose
   * id is the current last id.
   */
  resumePoint(topic: string, after: number): ResumePoint {
    const t = this.sql
      .exec<{ last_id: number; purged_through: number }>(
        'select last_id, purged_through from topics where topic = ?',
        topic,
      )
      .toArray()[0] ?? { last_id: 0, purged_through: 0 };
    if (after <= t.last_id && after >= t.purged_through) return { kind: 'ok' };
    const reason = after > t.last_id ? 'unknown' : 'too_old';
    return {
      kind: 'reset',
      reason,
      lastId: t.last_id,
      frame: sseFrame('reset', { reason, last_event_id: t.last_id }, t.last_id),
    };
  }

  /**
   * The frames after `after`, up to about `maxBytes` (always at least one). Rows are read lazily
   * from the cursor, so a client far behind never makes the hub hold its whole backlog.
   */
  page(topic: string, after: number, maxBytes: number): ReplayPage {
    const { frames, lastId, done } = this.frames(topic, after, maxBytes);
    return { text: frames.map((f) => f.text).join(''), lastId, done };
  }

  /** As `page`, one frame per event with its id (a relay filters them per subscriber). */
  frames(topic: string, after: number, maxBytes: number): ReplayFrames {
    const frames: { id: number; text: string }[] = [];
    let bytes = 0;
    let lastId = after;
    for (const row of this.sql.exec<{ id: number; type: string; data: string }>(
      'select id, type, data from events where topic = ? and id > ? order by id',
      topic,
      after,
    )) {
      if (frames.length > 0 && bytes + row.data.length > maxBytes) return { frames, lastId, done: false };
      const text = frameOf(row);
      frames.push({ id: row.id, text });
      bytes += text.length;
      lastId = row.id;
    }
    return { frames, lastId, done: true };
  }

  /** The events of a topic after `after`, parsed (for tests and the terminal-event check). */
  eventsAfter(topic: string, after = 0): { id: number; type: string; data: unknown }[] {
    return this.sql
      .exec<{ id: number; type: string; data: string }>(
        'select id, type, data from events where topic = ? and id > ? order by id',
        topic,
        after,
      )
      .toArray()
      .map((r) => ({ id: r.id, type: r.type, data: JSON.parse(r.data) }));
  }

  /**
   * Drops events that are both older than `minAgeMs` and outside the newest `minEvents` of their
   * topic, so the log keeps at least that many days and that many events.
   */
  purge(topic: string, minAgeMs: number, minEvents: number, now = Date.now()): number {
    const lastId = this.lastId(topic);
    const keepFrom = lastId - minEvents;
    if (keepFrom <= 0) return 0;
    const cutoff = this.sql
      .exec<{ max_id: number | null }>(
        'select max(id) as max_id from events where topic = ? and id <= ? and created_at < ?',
        topic,
        keepFrom,
        now - minAgeMs,
      )
      .one().max_id;
    if (cutoff === null) return 0;
    const deleted = this.sql.exec(
      'delete from events where topic = ? and id <= ?',
      topic,
      cutoff,
    ).rowsWritten;
    this.sql.exec('update topics set purged_through = max(purged_through, ?) where topic = ?', cutoff, topic);
    return deleted;
  }

  /** Removes a topic's events entirely, keeping its id counter (so no id is ever reused). */
  drop(topic: string): void {
    const lastId = this.lastId(topic);
    this.sql.exec('delete from events where topic = ?', topic);
    this.sql.exec('update topics set purged_through = ? where topic = ?', lastId, topic);
  }

  /**
   * Forgets a topic: its events and its row. Only for a topic that never gets another event (a
   * purged run's: its id is never run again, and its stream is answered from Postgres), so
   * finished runs leave nothing behind in the hub.
   */
  remove(topic: string): void {
    this.sql.exec('delete from events where topic = ?', topic);
    this.sql.exec('delete from topics where topic = ?', topic);
  }
}

const frameOf = (row: { id: number; type: string; data: string }) => sseFrameJson(row.type, row.data, row.id);
