import type { Schema } from './api';

/** What a paused run is resumed with: the text as typed, or parsed JSON. */
export type ResumeMode = 'text' | 'json';

type Json = Schema<'JsonValue'>;

export type ParsedInput = { ok: true; value: Json } | { ok: false; error: string };

/** A JSON object (not an array, not null): what a run's initial state must be. */
export const isJsonObject = (value: Json): value is { [key: string]: Json } =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseResumeInput(raw: string, mode: ResumeMode): ParsedInput {
  if (mode === 'text') return { ok: true, value: raw };
  if (raw.trim() === '') return { ok: false, error: 'Enter a JSON value, e.g. "vpn" or {"product": "vpn"}.' };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
}
