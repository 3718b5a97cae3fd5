import type { ComponentChildren } from 'preact';
import { toggle } from '../lib/queue-filter';

/**
 * A filter as a row of chips, one a value, each pressed or not (none pressed: no filter). The
 * chosen values keep the order of `values`, whatever order they were pressed in; `data-<kind>`
 * carries the value, for the colours.
 */
export function ToggleChips<T extends string>({
  legend,
  values,
  shown = values,
  kind,
  chosen,
  onChange,
  describedBy,
  children,
}: {
  legend: string;
  values: readonly T[];
  /** The order on screen, when it is not that of `values`. */
  shown?: readonly T[];
  kind: 'status' | 'severity';
  chosen: readonly T[];
  onChange: (chosen: T[]) => void;
  describedBy?: string;
  children: (value: T) => ComponentChildren;
}) {
  return (
    <fieldset class="chips" aria-describedby={describedBy}>
      <legend>{legend}</legend>
      {shown.map((v) => (
        <button
          key={v}
          type="button"
          class="chip"
          {...{ [`data-${kind}`]: v }}
          aria-pressed={chosen.includes(v)}
          onClick={() => onChange(toggle(chosen, v, values))}
        >
          {children(v)}
        </button>
      ))}
    </fieldset>
  );
}
