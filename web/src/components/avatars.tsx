import type { PresenceUser } from '../../../worker/contract/events';
import { listNames } from '../lib/sla';

const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('') || '?';

/** A stable colour bucket per user (the CSS holds the colours: no inline style under the CSP). */
const hue = (id: string) => [...id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % 8;

/**
 * People as small initials, each with their name on hover and for screen readers; `label` says
 * what the list is ("Viewing", "Online").
 */
export function Avatars({
  people,
  label,
  meId,
  max = 5,
  showLabel = false,
}: {
  people: readonly PresenceUser[];
  label: string;
  meId?: string;
  max?: number;
  /** Show the label beside the initials too (where there is room). */
  showLabel?: boolean;
}) {
  if (people.length === 0) return null;
  const named = people.map((p) => (p.user_id === meId ? `${p.name} (you)` : p.name));
  const shown = people.slice(0, max);
  return (
    <span class="avatars" data-label={label}>
      {showLabel && (
        <span class="avatars-label" aria-hidden="true">
          {label}
        </span>
      )}
      <span class="visually-hidden">
        {label}: {listNames(named)}
      </span>
      <ul class="avatars-list" aria-hidden="true">
        {shown.map((p, i) => (
          <li
            key={p.user_id}
            class="avatar"
            data-hue={hue(p.user_id)}
            data-me={p.user_id === meId}
            title={named[i]}
          >
            {initials(p.name)}
          </li>
        ))}
        {people.length > max && (
          <li class="avatar more" title={listNames(named.slice(max))}>
            +{people.length - max}
          </li>
        )}
      </ul>
    </span>
  );
}
