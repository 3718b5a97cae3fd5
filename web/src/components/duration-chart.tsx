import { daysBetween, niceTicks } from '../lib/chart-scale';
import { formatSeconds } from '../lib/format';

/** One day of a duration: its median and p90 in seconds (null: nothing measured that day). */
export interface DayPoint {
  date: string;
  median_seconds: number | null;
  p90_seconds: number | null;
  /** What the day's numbers are of, for the point's tooltip: "3 of 5 picked up". */
  detail?: string;
}

const PAD = { left: 56, right: 16, top: 16, bottom: 36 };

/**
 * A duration per day (time to pick-up, time to resolve): the median as a line with points, the
 * p90 as a dashed line. Days without a measure are gaps, not zeros. Scales with its container
 * (viewBox), so it stays readable on a narrow screen.
 */
export function DurationChart({
  id,
  title,
  from,
  to,
  days,
  empty,
  size = { width: 720, height: 260 },
}: {
  /** Unique on the page: the chart's title and description are named by it. */
  id: string;
  title: string;
  from: string;
  to: string;
  days: DayPoint[];
  /** What to say when no day has a measure. */
  empty: string;
  /** The drawing's size in its own units: a narrower one for a half-width panel keeps text legible. */
  size?: { width: number; height: number };
}) {
  const W = size.width;
  const H = size.height;
  const dates = daysBetween(from, to);
  const byDate = new Map(days.map((d) => [d.date, d]));
  const max = Math.max(0, ...days.map((d) => d.p90_seconds ?? d.median_seconds ?? 0));
  // Round steps in the unit the labels use: 0, 2, 4 min rather than 0, 200, 400 s.
  const unit = max >= 7200 ? 3600 : max >= 120 ? 60 : 1;
  const ticks = niceTicks(max / unit).map((t) => t * unit);
  const top = ticks[ticks.length - 1] ?? 1;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (dates.length <= 1 ? innerW / 2 : (i / (dates.length - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const path = (key: 'median_seconds' | 'p90_seconds') => {
    let d = '';
    let pen = false;
    dates.forEach((date, i) => {
      const v = byDate.get(date)?.[key];
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    return d;
  };
  const labelEvery = Math.max(1, Math.ceil(dates.length / 8));
  const withData = days.filter((d) => d.median_seconds !== null);
  return (
    <figure class="chart" data-chart={id}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        preserveAspectRatio="xMidYMid meet"
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>
          {withData.length === 0
            ? empty
            : withData
                .map(
                  (d) =>
                    `${d.date}: median ${formatSeconds(d.median_seconds)}, p90 ${formatSeconds(d.p90_seconds)}`,
                )
                .join('; ')}
        </desc>
        {ticks.map((t) => (
          <g key={t} class="tick">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t)} text-anchor="end" dominant-baseline="middle">
              {formatSeconds(t)}
            </text>
          </g>
        ))}
        {dates.map((date, i) =>
          // Every few days, counted back from the last so that today is always labelled.
          (dates.length - 1 - i) % labelEvery === 0 ? (
            <text key={date} class="x-label" x={x(i)} y={H - PAD.bottom + 18} text-anchor="middle">
              {date.slice(5)}
            </text>
          ) : null,
        )}
        <path class="line p90" d={path('p90_seconds')} />
        <path class="line median" d={path('median_seconds')} />
        {dates.map((date, i) => {
          const d = byDate.get(date);
          if (!d || d.median_seconds === null) return null;
          const p90 = d.p90_seconds;
          return (
            <g key={date}>
              {p90 !== null && <rect class="point p90" x={x(i) - 3} y={y(p90) - 3} width={6} height={6} />}
              <circle class="point" cx={x(i)} cy={y(d.median_seconds)} r={3.5}>
                <title>
                  {date}: median {formatSeconds(d.median_seconds)}, p90 {formatSeconds(d.p90_seconds)}
                  {d.detail ? `, ${d.detail}` : ''}
                </title>
              </circle>
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        <span class="key median">median</span> <span class="key p90">90th percentile</span>
      </figcaption>
    </figure>
  );
}
