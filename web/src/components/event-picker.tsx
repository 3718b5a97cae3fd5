import { EVENT_GROUPS, eventLabel, isSelected, type Selector, toggleSelector } from '../lib/webhooks';

/** Which events an endpoint receives: whole families or single types. */
export function EventPicker({
  value,
  onChange,
  idPrefix,
}: {
  value: Selector[];
  onChange: (next: Selector[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset class="event-picker">
      <legend>Events</legend>
      {EVENT_GROUPS.map((g) => {
        const familyId = `${idPrefix}-${g.pattern}`;
        return (
          <div class="event-group" key={g.pattern}>
            <label class="check" for={familyId}>
              <input
                id={familyId}
                type="checkbox"
                checked={value.includes(g.pattern) || value.includes('*')}
                onChange={(e) => onChange(toggleSelector(value, g.pattern, e.currentTarget.checked))}
              />
              {g.label} <code>{g.pattern}</code>
            </label>
            <div class="event-types">
              {g.types.map((t) => {
                const id = `${idPrefix}-${t}`;
                return (
                  <label class="check" for={id} key={t}>
                    <input
                      id={id}
                      type="checkbox"
                      checked={isSelected(value, t)}
                      onChange={(e) => onChange(toggleSelector(value, t, e.currentTarget.checked))}
                    />
                    {eventLabel(t)}
                  </label>
                );
              })}
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}
