// How a token's claims are read, shared by the Worker (which verifies the token) and the site
// (which only labels its screens with them): DESIGN.md "Limits and hardening".

/** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. */
export const CLOCK_LEEWAY_SECONDS = 60;
/** The longest display name kept, in characters (code points). */
export const MAX_NAME_CHARS = 200;

// C0, DEL and C1 controls, and the bidi embeddings, overrides and isolates that would reorder
// whatever is shown next to the name.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The name to show for a user, never a reason to refuse a token: lone surrogates replaced,
 * controls removed, trimmed, cut to MAX_NAME_CHARS; a stand-in when nothing is left.
 */
export function displayName(raw: unknown, userId: string): string {
  const text = typeof raw === 'string' ? raw.toWellFormed().replace(CONTROLS, '').trim() : '';
  const cut = Array.from(text).slice(0, MAX_NAME_CHARS).join('').trim();
  return cut === '' ? `user ${userId.slice(0, 8)}` : cut;
}
