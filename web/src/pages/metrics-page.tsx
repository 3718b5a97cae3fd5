import { useEffect, useState } from 'preact/hooks';
import { SEVERITIES } from '../../../worker/contract/statuses';
import { Alert } from '../components/alert';
import { DayCountsChart } from '../components/day-counts-chart';
import { DurationChart } from '../components/duration-chart';
import { LoadStatus } from '../components/load-status';
import { SeverityPill } from '../components/severity-pill';
import type { Schema } from '../lib/api';
import type { Session } from '../lib/auth';
import { formatSeconds } from '../lib/format';
import {
  apiRange,
  customRange,
  type MetricsRange,
  PRESETS,
  rangeDays,
  rangeFromQuery,
  rangeLabel,
  rangeToQuery,
} from '../lib/metrics-range';
import { paths, replaceHash } from '../lib/router';
import { useApi } from '../lib/use-api';

/** The reader's time zone: days are theirs, not UTC's. */
const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
/** A chart in half the page's width: a narrower drawing, so its text stays legible. */
const HALF = { width: 440, height: 260 };
/** Today in the reader's zone, as YYYY-MM-DD. */
const localToday = () => new Date().toLocaleDateString('en-CA', { timeZone: TZ });

/**
 * Admins: time to pick-up and to resolve (median and p90) per day, hand-offs per day, SLA
 * attainment, and counts by status and severity, over a range of the reader's days.
 */
export function MetricsPage({ user, query }: { user: Session; query: string }) {
  const range = rangeFromQuery(query);
  const today = localToday();
  const { first, last } = rangeDays(range, today);
  const [m] = useApi(user.role === 'admin' ? '/v1/escalations/metrics' : null, {
    params: { query: apiRange(range, today, TZ) },
  });
  if (user.role !== 'admin') {
    return (
      <section>
        <h1>Metrics</h1>
        <p class="notice">Metrics are for admins of the account.</p>
      </section>
    );
  }
  const show = (next: MetricsRange) => replaceHash(paths.metrics(rangeToQuery(next)));
  return (
    <section aria-labelledby="metrics-heading">
      <div class="page-head">
        <h1 id="metrics-heading">Metrics</h1>
        <p class="hint" data-testid="range-label">
          {rangeLabel(range)} · days in {TZ}
        </p>
      </div>
      <RangePicker range={range} today={today} onChange={show} />
      <LoadStatus loaded={m} />
      {m.status === 'ready' && (
        <>
          <dl class="stats">
            <div>
              <dt>Escalations</dt>
              <dd data-testid="total">{m.data.totals.total}</dd>
            </div>
            <div>
              <dt>Pick-up, median</dt>
              <dd data-testid="pickup-median">{formatSeconds(m.data.time_to_pickup_seconds.median)}</dd>
            </div>
            <div>
              <dt>Pick-up, p90</dt>
              <dd data-testid="pickup-p90">{formatSeconds(m.data.time_to_pickup_seconds.p90)}</dd>
            </div>
            <div>
              <dt>Resolve, median</dt>
              <dd data-testid="resolve-median">{formatSeconds(m.data.time_to_resolve_seconds.median)}</dd>
            </div>
            <div>
              <dt>Resolve, p90</dt>
              <dd data-testid="resolve-p90">{formatSeconds(m.data.time_to_resolve_seconds.p90)}</dd>
            </div>
            <div>
              <dt>Picked up in time</dt>
              <dd data-testid="pickup-attainment">{percent(m.data.sla.overall.pickup_attainment)}</dd>
            </div>
            <div>
              <dt>Resolved in time</dt>
              <dd data-testid="resolve-attainment">{percent(m.data.sla.overall.resolve_attainment)}</dd>
            </div>
          </dl>
          <section class="panel" aria-labelledby="chart-heading">
            <h2 id="chart-heading">Time to pick-up</h2>
            <DurationChart
              id="pickup-chart"
              title="Time to pick-up per day"
              from={first}
              to={last}
              empty="No escalation was picked up in this range."
              days={m.data.per_day.map((d) => ({
                date: d.date,
                median_seconds: d.median_seconds,
                p90_seconds: d.p90_seconds,
                detail: `${d.picked_up} of ${d.created} picked up`,
              }))}
            />
          </section>
          <div class="two">
            <section class="panel" aria-labelledby="resolve-heading">
              <h2 id="resolve-heading">Time to resolve</h2>
              <DurationChart
                id="resolve-chart"
                title="Time to resolve per day"
                from={first}
                to={last}
                empty="No escalation created in this range was resolved."
                size={HALF}
                days={m.data.sla.per_day.map((d) => ({
                  date: d.date,
                  median_seconds: d.time_to_resolve_seconds.median,
                  p90_seconds: d.time_to_resolve_seconds.p90,
                  detail: `${d.time_to_resolve_seconds.count} of ${d.handoffs} resolved`,
                }))}
              />
            </section>
            <section class="panel" aria-labelledby="per-day-heading">
              <h2 id="per-day-heading">Hand-offs per day</h2>
              <DayCountsChart
                size={HALF}
                from={first}
                to={last}
                days={m.data.sla.per_day.map((d) => ({
                  date: d.date,
                  bySeverity: Object.fromEntries(
                    SEVERITIES.map((s) => [s, d.by_severity[s].handoffs]),
                  ) as Record<(typeof SEVERITIES)[number], number>,
                }))}
              />
            </section>
          </div>
          <SlaTable sla={m.data.sla} tz={m.data.tz} />
          <div class="two">
            <Counts
              title="By status"
              counts={m.data.totals.by_status}
              total={m.data.totals.total}
              attr="status"
            />
            <Counts
              title="By severity"
              counts={m.data.totals.by_severity}
              total={m.data.totals.total}
              attr="severity"
            />
          </div>
        </>
      )}
    </section>
  );
}

/** The last day, week, month or quarter, or two dates of the reader's choosing. */
function RangePicker({
  range,
  today,
  onChange,
}: {
  range: MetricsRange;
  today: string;
  onChange: (r: MetricsRange) => void;
}) {
  const { first, last } = rangeDays(range, today);
  const [from, setFrom] = useState(first);
  const [to, setTo] = useState(last);
  const [error, setError] = useState<string | null>(null);
  // The fields follow the range shown (a preset chosen, a URL opened).
  useEffect(() => {
    setFrom(first);
    setTo(last);
    setError(null);
  }, [first, last]);
  return (
    <div class="range-picker">
      <fieldset class="segmented">
        <legend class="visually-hidden">Range</legend>
        {PRESETS.map((days) => (
          <label key={days}>
            <input
              type="radio"
              name="range"
              checked={range.kind === 'preset' && range.days === days}
              onChange={() => onChange({ kind: 'preset', days })}
            />
            <span>{days === 1 ? 'Today' : `${days} days`}</span>
          </label>
        ))}
      </fieldset>
      <form
        class="custom-range"
        aria-label="Custom range"
        onSubmit={(e) => {
          e.preventDefault();
          const checked = customRange(from, to);
          if (!checked.ok) {
            setError(checked.error);
            return;
          }
          setError(null);
          onChange(checked.range);
        }}
      >
        <label for="range-from">From</label>
        <input
          id="range-from"
          type="date"
          value={from}
          max={today}
          aria-invalid={error !== null}
          aria-describedby={error ? 'range-error' : undefined}
          onInput={(e) => setFrom(e.currentTarget.value)}
        />
        <label for="range-to">to</label>
        <input
          id="range-to"
          type="date"
          value={to}
          aria-invalid={error !== null}
          aria-describedby={error ? 'range-error' : undefined}
          onInput={(e) => setTo(e.currentTarget.value)}
        />
        <button type="submit">Show</button>
        <Alert id="range-error" inline text={error} />
      </form>
    </div>
  );
}

function Counts({
  title,
  counts,
  total,
  attr,
}: {
  title: string;
  counts: Record<string, number>;
  total: number;
  attr: 'status' | 'severity';
}) {
  const id = `counts-${attr}`;
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <table class="counts-table">
        <tbody>
          {Object.entries(counts).map(([k, n]) => (
            <tr key={k} data-key={k}>
              <th scope="row">{k.replace('_', ' ')}</th>
              <td class="num">{n}</td>
              <td class="bar-cell">
                <span
                  class="bar"
                  {...{ [`data-${attr}`]: k }}
                  style={{ width: `${total ? Math.round((n / total) * 100) : 0}%` }}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

type Sla = Schema<'EscalationMetrics'>['sla'];
type Figures = Schema<'SlaFigures'>;

const percent = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)}%`);

function FigureCells({ f }: { f: Figures }) {
  return (
    <>
      <td class="num">{f.handoffs}</td>
      <td class="num">{percent(f.pickup_attainment)}</td>
      <td class="num">{percent(f.resolve_attainment)}</td>
      <td class="num">
        {f.pickup_breaches} / {f.resolve_breaches}
      </td>
      <td class="num">{f.reescalations}</td>
      <td class="num">
        {formatSeconds(f.time_to_resolve_seconds.median)} / {formatSeconds(f.time_to_resolve_seconds.p90)}
      </td>
    </>
  );
}

const HEAD = (
  <>
    <th scope="col">Hand-offs</th>
    <th scope="col">Picked up in time</th>
    <th scope="col">Resolved in time</th>
    <th scope="col">Breaches (pick-up / resolve)</th>
    <th scope="col">Re-escalations</th>
    <th scope="col">Time to resolve (median / p90)</th>
  </>
);

/** How the SLA clocks were kept, per severity and per day (days in the reader's zone). */
function SlaTable({ sla, tz }: { sla: Sla; tz: string }) {
  const days = sla.per_day.filter((d) => d.handoffs > 0).reverse();
  return (
    <section class="panel sla-metrics" aria-labelledby="sla-heading">
      <h2 id="sla-heading">SLA attainment</h2>
      <div class="table-scroll">
        <table class="sla-table" data-testid="sla-by-severity">
          <caption class="visually-hidden">By severity</caption>
          <thead>
            <tr>
              <th scope="col">Severity</th>
              {HEAD}
            </tr>
          </thead>
          <tbody>
            {[...SEVERITIES].reverse().map((s) => (
              <tr key={s} data-severity={s}>
                <th scope="row">
                  <SeverityPill severity={s} />
                </th>
                <FigureCells f={sla.by_severity[s]} />
              </tr>
            ))}
            <tr class="total">
              <th scope="row">All</th>
              <FigureCells f={sla.overall} />
            </tr>
          </tbody>
        </table>
      </div>
      {days.length > 0 && (
        <details>
          <summary>Per day ({tz})</summary>
          <div class="table-scroll">
            <table class="sla-table">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  {HEAD}
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">{d.date}</th>
                    <FigureCells f={d} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      )}
    </section>
  );
}
