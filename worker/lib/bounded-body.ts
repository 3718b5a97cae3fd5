// Reading an HTTP answer's body from a server Switchboard does not control (an LLM provider,
// an http_get target, a webhook receiver): never more than the caller can use, whatever the
// server sends or declares.

export interface BoundedBody {
  /** At most `maxBytes` bytes: the start of the body. */
  bytes: Uint8Array;
  /** The body had more than `maxBytes` bytes; the rest was not read (the connection is let go). */
  truncated: boolean;
}

/**
 * Reads up to `maxBytes` of `response`'s body and cancels the rest. A read that fails (the
 * connection broke, an abort) rejects with the reader's error, for the caller to word.
 */
export async function readBodyUpTo(response: Response, maxBytes: number): Promise<BoundedBody> {
  if (!response.body) return { bytes: new Uint8Array(), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let used = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, maxBytes - used);
      if (take > 0) chunks.push(take === value.byteLength ? value : value.subarray(0, take));
      used += take;
      if (take < value.byteLength) {
        truncated = true;
        break;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  if (chunks.length === 1 && chunks[0]) return { bytes: chunks[0], truncated };
  const bytes = new Uint8Array(used);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, truncated };
}
