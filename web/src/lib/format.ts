/** "just now", "45 s", "12 min", "3 h", "2 d": how long ago, short enough for a card. */
export function formatAge(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** A duration in seconds for people: "150 ms", "2.5 s", "42 s", "3.5 min", "2.1 h". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds === 0) return '0 s';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${trim(seconds)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${trim(seconds / 60)} min`;
  if (seconds < 86_400 * 2) return `${trim(seconds / 3600)} h`;
  return `${trim(seconds / 86_400)} d`;
}

const trim = (n: number) => (Math.round(n * 10) / 10).toString();

export const formatTime = (iso: string) => new Date(iso).toLocaleString();
