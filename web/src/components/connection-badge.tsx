import type { StreamStatus } from '../lib/sse-client';

const LABELS: Record<StreamStatus['state'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  unauthorized: 'Signed out',
  failed: 'Live updates off',
  closed: 'Disconnected',
};

/** The stream's state in words and colour, with the detail on hover and for screen readers. */
export function ConnectionBadge({ status, onRetry }: { status: StreamStatus; onRetry?: () => void }) {
  const detail =
    status.state === 'reconnecting'
      ? `Connection lost${status.error ? ` (${status.error})` : ''}; attempt ${status.attempt}, next in ${Math.ceil((status.retryInMs ?? 0) / 1000)} s`
      : status.state === 'failed'
        ? (status.error ?? 'The server refused the stream')
        : LABELS[status.state];
  return (
    <span class="connection" data-state={status.state} role="status" aria-live="polite" title={detail}>
      <span class="connection-dot" aria-hidden="true" />
      <span class="connection-label">{LABELS[status.state]}</span>
      <span class="visually-hidden">: {detail}</span>
      {status.state === 'reconnecting' && onRetry && (
        <button type="button" class="link-button" onClick={onRetry}>
          Retry now
        </button>
      )}
    </span>
  );
}
