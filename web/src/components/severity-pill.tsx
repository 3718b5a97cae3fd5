import type { Severity } from '../../../worker/contract/events';

/** Severity as a word and a colour: never the colour alone. */
export function SeverityPill({ severity }: { severity: Severity }) {
  return (
    <span class="severity" data-severity={severity}>
      {severity}
    </span>
  );
}
