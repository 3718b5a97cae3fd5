import { readBodyUpTo } from '../lib/bounded-body';
import { log } from '../lib/log';
import { checkWebhookTarget, describeTarget } from './webhook-target';

// One delivery attempt over HTTP: POST, no redirects followed, a timeout, the answer read up to
// 4 KiB and kept up to 1 KiB (DESIGN.md "Safe targets"). Never throws: every way it can end is
// an outcome the caller records.

export const READ_BYTES = 4096;
export const KEEP_BYTES = 1024;

export type AttemptOutcome = {
  /** 2xx: delivered. `gone`: 410, the receiver asks never to be called again. */
  kind: 'succeeded' | 'gone' | 'failed';
  responseStatus: number | null;
  responseBody: string | null;
  durationMs: number;
  error: string | null;
};

export interface AttemptRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  allowHosts: readonly string[];
  fetch?: typeof fetch;
}

/** Up to KEEP_BYTES of text, never cut inside a character. */
function keep(bytes: Uint8Array): string | null {
  if (bytes.byteLength === 0) return null;
  const text = new TextDecoder().decode(bytes.subarray(0, KEEP_BYTES));
  // A multi-byte character cut at the boundary decodes as U+FFFD; drop it.
  return bytes.byteLength > KEEP_BYTES ? text.replace(/\uFFFD$/, '') : text;
}

export async function sendAttempt(req: AttemptRequest): Promise<AttemptOutcome> {
  const started = Date.now();
  const outcome = (kind: AttemptOutcome['kind'], rest: Partial<AttemptOutcome>): AttemptOutcome => ({
    kind,
    responseStatus: null,
    responseBody: null,
    error: null,
    ...rest,
    durationMs: Math.max(0, Date.now() - started),
  });
  const target = checkWebhookTarget(req.url, req.allowHosts);
  if (!target.ok) return outcome('failed', { error: `not sent: ${target.reason}` });
  let response: Response;
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    response = await (req.fetch ?? fetch)(target.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    if (signal.aborted) {
      return outcome('failed', {
        error: `timed out after ${req.timeoutMs} ms (no answer from ${describeTarget(req.url)})`,
      });
    }
    // The runtime's words (which may carry internal detail) go to the log; the delivery log, which
    // admins read, gets a fixed text.
    log('warn', 'webhook delivery could not connect', { target: describeTarget(req.url), err });
    return outcome('failed', { error: `network error: no connection to ${describeTarget(req.url)}` });
  }
  let bytes: Uint8Array = new Uint8Array();
  let readError: string | null = null;
  try {
    bytes = (await readBodyUpTo(response, READ_BYTES)).bytes;
  } catch (err) {
    if (!signal.aborted)
      log('warn', 'webhook answer could not be read', { target: describeTarget(req.url), err });
    readError = signal.aborted
      ? `timed out reading the answer after ${req.timeoutMs} ms`
      : 'the answer could not be read (the connection broke)';
  }
  const status = response.status;
  const answered = { responseStatus: status, responseBody: keep(bytes) };
  if (status >= 200 && status < 300) return outcome('succeeded', answered);
  if (status === 410) return outcome('gone', { ...answered, error: 'the endpoint answered 410 Gone' });
  if (status >= 300 && status < 400) {
    return outcome('failed', { ...answered, error: `redirects are not followed (HTTP ${status})` });
  }
  return outcome('failed', { ...answered, error: readError ?? `HTTP ${status}` });
}
