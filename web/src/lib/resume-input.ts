/** What a paused run is resumed with: the text as typed, or parsed JSON. */
export type ResumeMode = 'text' | 'json';

export type ParsedInput = { ok: true; value: unknown } | { ok: false; error: string };

export function parseResumeInput(raw: string, mode: ResumeMode): ParsedInput {
  if (mode === 'text') return { ok: true, value: raw };
  if (raw.trim() === '') return { ok: false, error: 'Enter a JSON value, e.g. "vpn" or {"product": "vpn"}.' };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${(err as Error).message}` };
  }
}
