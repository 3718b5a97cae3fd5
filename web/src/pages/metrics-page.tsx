import { useState } from 'preact/hooks';
import { PickupChart } from '../components/pickup-chart';
import type { Session } from '../lib/auth';
import { formatSeconds } from '../lib/format';
import { useApi } from '../lib/use-api';

const RANGES = [7, 30, 90] as const;

/** Admins: time to pick-up over time, and counts by status and severity. */
export function MetricsPage({ user }: { user: Session }) {
  const [days, setDays] = useState<(typeof RANGES)[number]>(30);
  // Whole UTC days, so the chart's first and last day are complete.
  const today = new Date().toISOString().slice(0, 10);
  const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const from = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const [m] = useApi(user.role === 'admin' ? '/v1/escalations/metrics' : null, {
    params: { query: { from, to } },
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
          </dl>
          <section class="panel" aria-labelledby="chart-heading">
            <h2 id="chart-heading">Time to pick-up</h2>
            <PickupChart from={from} to={today} days={m.data.per_day} />
          </section>
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
