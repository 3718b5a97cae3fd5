import { SEVERITIES, type Severity } from '../../../worker/contract/statuses';
import { daysBetween, niceTicks } from '../lib/chart-scale';

/** How many hand-offs were created on a day, per severity. */
export interface DayCounts {
  date: string;
  bySeverity: Record<Severity, number>;
}

const PAD = { left: 40, right: 16, top: 12, bottom: 36 };

/**
 * Hand-offs created per day, stacked by severity (urgent on top). Each bar's tooltip and the
 * description say the numbers in words; the legend names the colours.
 */
export function DayCountsChart({
  from,
  to,
  days,
  size = { width: 720, height: 220 },
}: {
  from: string;
  to: string;
  days: DayCounts[];
  size?: { width: number; height: number };
}) {
  const W = size.width;
  const H = size.height;
  const dates = daysBetween(from, to);
  const byDate = new Map(days.map((d) => [d.date, d]));
  const total = (d: DayCounts | undefined) => (d ? SEVERITIES.reduce((n, s) => n + d.bySeverity[s], 0) : 0);
  const max = Math.max(0, ...dates.map((d) => total(byDate.get(d))));
  const ticks = niceTicks(max).filter((t) => Number.isInteger(t));
  const top = ticks.at(-1) ?? 1;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(1, dates.length);
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const labelEvery = Math.max(1, Math.ceil(dates.length / 8));
  const words = dates
    .filter((d) => total(byDate.get(d)) > 0)
    .map((date) => {
      const d = byDate.get(date) as DayCounts;
      const parts = [...SEVERITIES]
        .reverse()
        .flatMap((s) => (d.bySeverity[s] ? [`${d.bySeverity[s]} ${s}`] : []));
      return `${date}: ${total(d)} (${parts.join(', ')})`;
    });
  return (
    <figure class="chart day-counts" data-chart="per-day">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="per-day-title per-day-desc">
        <title id="per-day-title">Hand-offs created per day, by severity</title>
        <desc id="per-day-desc">
          {words.length ? words.join('; ') : 'No hand-off was created in this range.'}
        </desc>
        {ticks.map((t) => (
          <g key={t} class="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t)} text-anchor="end" dominant-baseline="middle">
              {t}
            </text>
          </g>
        ))}
        {dates.map((date, i) => {
          const d = byDate.get(date);
          const cx = PAD.left + slot * (i + 0.5);
          let base = 0;
          return (
            <g key={date} class="day" data-date={date} data-total={total(d)}>
              {d &&
                SEVERITIES.map((s) => {
                  const n = d.bySeverity[s];
                  if (!n) return null;
                  const rect = (
                    <rect
                      key={s}
                      class="bar-seg"
                      data-severity={s}
                      x={cx - barW / 2}
                      y={y(base + n)}
                      width={barW}
                      height={Math.max(1, y(base) - y(base + n))}
                    >
                      <title>
                        {date}: {n} {s}
                      </title>
                    </rect>
                  );
                  base += n;
                  return rect;
                })}
              {(dates.length - 1 - i) % labelEvery === 0 && (
                <text class="x-label" x={cx} y={H - PAD.bottom + 18} text-anchor="middle">
                  {date.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {[...SEVERITIES].reverse().map((s) => (
          <span key={s} class="swatch" data-severity={s}>
            {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
