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

/** A countdown for a clock: "4:05", "1:02:03", "2 d 3 h". */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  if (h >= 48) return `${Math.floor(h / 24)} d ${h % 24} h`;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A length of time in exact, readable units: "45 s", "2 min", "1 min 30 s", "4 h", "1 day", "3 days". */
export function formatDuration(seconds: number): string {
  const parts: string[] = [];
  let left = Math.round(seconds);
  const units: [number, (n: number) => string][] = [
    [86_400, (n) => `${n} ${n === 1 ? 'day' : 'days'}`],
    [3_600, (n) => `${n} h`],
    [60, (n) => `${n} min`],
    [1, (n) => `${n} s`],
  ];
  for (const [size, word] of units) {
    const n = Math.floor(left / size);
    if (n > 0) parts.push(word(n));
    left -= n * size;
  }
  return parts.length ? parts.slice(0, 2).join(' ') : '0 s';
}
