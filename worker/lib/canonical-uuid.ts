/**
 * The canonical form of a UUID: lower-case and hyphenated. Accepts any spelling of one UUID
 * (upper case, no hyphens, braces, a `urn:uuid:` prefix) so every spelling reaches the same
 * account and the same hub. Returns undefined when the input is not a UUID at all.
 */
export function canonicalUuid(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  let s = input.trim().toLowerCase();
  if (s.startsWith('urn:uuid:')) s = s.slice(9);
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  // Hyphens, when present, must be at the standard positions.
  if (s.includes('-') && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s))
    return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
