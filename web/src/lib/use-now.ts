import { useEffect, useState } from 'preact/hooks';

/** The current time, re-read every `periodMs`, so ages on screen stay true. */
export function useNow(periodMs = 15_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}
