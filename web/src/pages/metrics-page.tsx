import { useState } from 'preact/hooks';
import { SEVERITIES } from '../../../worker/contract/statuses';
import { PickupChart } from '../components/pickup-chart';
import { SeverityPill } from '../components/severity-pill';
import type { Schema } from '../lib/api';
import type { Session } from '../lib/auth';
import { formatSeconds } from '../lib/format';
import { useApi } from '../lib/use-api';

const RANGES = [7, 30, 90] as const;

/** The reader's time zone: days are theirs, not UTC's. */
const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
/** Today in the reader's zone, as YYYY-MM-DD. */
const localToday = () => new Date().toLocaleDateString('en-CA', { timeZone: TZ });
/** A calendar date `n` days after `date` (calendar arithmetic, no clock involved). */
const addDays = (date: string, n: number) => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
};

/** Admins: time to pick-up over time, SLA attainment, and counts by status and severity. */
export function MetricsPage({ user }: { user: Session }) {
  const [days, setDays] = useState<(typeof RANGES)[number]>(30);
  // Whole days in the reader's zone, so the chart's first and last day are complete.
  const today = localToday();
  const to = addDays(today, 1);
  const from = addDays(today, -(days - 1));
  const [m] = useApi(user.role === 'admin' ? '/v1/escalations/metrics' : null, {
    params: { query: { from, to, tz: TZ } },
  });
  if (user.role !== 'admin') {
    return (
      <section>
        <h1>Metrics</h1>
        <p class="notice">Metrics are for admins of the account.</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="metrics-heading">
      <div class="page-head">
        <h1 id="metrics-heading">Metrics</h1>
        <fieldset class="segmented">
          <legend class="visually-hidden">Range</legend>
          {RANGES.map((r) => (
            <label key={r}>
              <input type="radio" name="range" checked={days === r} onChange={() => setDays(r)} />
              <span>{r} days</span>
            </label>
          ))}
        </fieldset>
      </div>
      {m.status === 'loading' && <p aria-busy="true">Loading…</p>}
      {m.status === 'error' && (
        <p class="error" role="alert">
          {m.error}
        </p>
      )}
      {m.status === 'ready' && (
        <>
          <dl class="stats">
            <div>
              <dt>Escalations</dt>
              <dd data-testid="total">{m.data.totals.total}</dd>
            </div>
            <div>
              <dt>Picked up</dt>
              <dd>{m.data.time_to_pickup_seconds.count}</dd>
            </div>
            <div>
              <dt>Median time to pick-up</dt>
              <dd>{formatSeconds(m.data.time_to_pickup_seconds.median)}</dd>
            </div>
            <div>
              <dt>90th percentile</dt>
              <dd>{formatSeconds(m.data.time_to_pickup_seconds.p90)}</dd>
            </div>
            <div>
              <dt>Median time to resolve</dt>
              <dd>{formatSeconds(m.data.time_to_resolve_seconds.median)}</dd>
            </div>
            <div>
              <dt>Picked up in time</dt>
              <dd data-testid="pickup-attainment">{percent(m.data.sla.overall.pickup_attainment)}</dd>
            </div>
          </dl>
          <section class="panel" aria-labelledby="chart-heading">
            <h2 id="chart-heading">Time to pick-up</h2>
            <PickupChart from={from} to={today} days={m.data.per_day} />
          </section>
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
