import { useEffect, useState } from 'preact/hooks';
import { SEVERITIES, type Severity, SLA_CLOCKS, type SlaClock } from '../../../worker/contract/statuses';
import { Alert } from '../components/alert';
import { Icon } from '../components/icon';
import { LoadError } from '../components/load-status';
import { SeverityPill } from '../components/severity-pill';
import { api, data, errorMessage, fieldIssues } from '../lib/api';
import type { Session } from '../lib/auth';
import {
  type DurationField,
  formIssues,
  fromForm,
  issuesByField,
  type LevelForm,
  type PolicyForm,
  type SeverityForm,
  toForm,
  UNIT_LABELS,
  UNITS,
  type Unit,
} from '../lib/policy-form';
import { describePolicy } from '../lib/policy-preview';
import { useApi } from '../lib/use-api';
import { useUsers } from '../lib/use-users';

type Errors = Map<string, string>;

/** What each clock's window is called in the form. */
const CLOCK_LABELS: Record<SlaClock, string> = { pickup: 'Pick up within', resolve: 'Resolve within' };

/**
 * Setters of a form part's fields, for the inputs that hand back a field's new value: `change`
 * applies an edit to (a copy of) the part.
 */
const fieldSetters =
  <T,>(change: (edit: (part: T) => void) => void) =>
  <K extends keyof T>(key: K) =>
  (value: T[K]) =>
    change((part) => {
      part[key] = value;
    });

/** The escalation policy: admins edit it; everyone can read what it does, in plain words. */
export function PolicyPage({ user }: { user: Session }) {
  const [loaded, reload] = useApi('/v1/escalation-policy');
  const users = useUsers();
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [errors, setErrors] = useState<Errors>(new Map());
  const [general, setGeneral] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const admin = user.role === 'admin';

  useEffect(() => {
    if (loaded.status === 'ready') setForm(toForm(loaded.data.policy));
  }, [loaded.status === 'ready' ? loaded.data.version : -1]);
  // After a refused save, take the reader to the first field that needs fixing.
  useEffect(() => {
    if (errors.size > 0) document.querySelector<HTMLElement>('.policy-form [aria-invalid="true"]')?.focus();
  }, [errors]);

  if (loaded.status === 'loading' || (loaded.status === 'ready' && !form))
    return <p aria-busy="true">Loading…</p>;
  if (loaded.status === 'error') return <LoadError failed={loaded} onRetry={reload} />;
  if (!form) return null;
  const people = users.status === 'ready' ? users.data.items.filter((u) => u.role !== 'viewer') : [];
  const names = new Map(people.map((u) => [u.id, u.name]));
  const nameOf = (id: string) => names.get(id) ?? 'an unknown user';
  const update = (fn: (f: PolicyForm) => void) => {
    const next = structuredClone(form);
    fn(next);
    setForm(next);
    setSaved(null);
  };
  const local = formIssues(form);
  const preview = local.length === 0 ? describePolicy(fromForm(form), nameOf) : null;

  const save = async (e: Event) => {
    e.preventDefault();
    setGeneral(null);
    setSaved(null);
    if (local.length > 0) {
      setErrors(issuesByField(local));
      setGeneral('Some fields need a number or a choice: see the messages beside them.');
      return;
    }
    setBusy(true);
    try {
      const stored = await data(api.PUT('/v1/escalation-policy', { body: fromForm(form) }));
      setErrors(new Map());
      setForm(toForm(stored.policy));
      setSaved(
        `Saved as version ${stored.version}. Cards created from now on follow it; existing cards keep the version they were created under.`,
      );
      reload();
    } catch (err) {
      const issues = fieldIssues(err);
      setErrors(issuesByField(issues));
      setGeneral(
        issues.length > 0
          ? `Not saved: ${issues.length === 1 ? 'one field needs' : `${issues.length} fields need`} fixing (marked below).`
          : `Not saved: ${errorMessage(err)}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="policy-heading" class="policy">
      <div class="page-head">
        <h1 id="policy-heading">Escalation policy</h1>
        <p class="counts">
          Version {loaded.data.version}
          {loaded.data.updated_by
            ? `, by ${loaded.data.updated_by.name}`
            : loaded.data.version === 0
              ? ' (the default)'
              : ''}
        </p>
      </div>
      {!admin && <p class="notice">Only admins can change the policy; this is what it does.</p>}
      <section class="panel preview" aria-labelledby="preview-heading" aria-live="polite">
        <h2 id="preview-heading">What it does</h2>
        {preview ? (
          <ul data-testid="policy-preview">
            {preview.map((p) => (
              <li key={p.severity}>{p.text}</li>
            ))}
          </ul>
        ) : (
          <p class="hint">Complete the fields marked below to see the schedule.</p>
        )}
      </section>
      <form class="policy-form" onSubmit={save} noValidate>
        <fieldset disabled={!admin || busy} class="bare">
          <legend class="visually-hidden">Policy</legend>
          <NumberField
            id="warn-at"
            label="Warn when this share of a window has passed (%)"
            value={form.warnPercent}
            error={errors.get('warn_at')}
            onInput={fieldSetters(update)('warnPercent')}
          />
          {[...SEVERITIES].reverse().map((s) => (
            <SeverityFieldset
              key={s}
              severity={s}
              form={form.severities[s]}
              errors={errors}
              people={people}
              onChange={(fn) => update((f) => fn(f.severities[s]))}
            />
          ))}
        </fieldset>
        <Alert text={general} />
        {saved && (
          <p class="ok" role="status">
            {saved}
          </p>
        )}
        {admin && (
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save policy'}
          </button>
        )}
      </form>
    </section>
  );
}

function SeverityFieldset({
  severity,
  form,
  errors,
  people,
  onChange,
}: {
  severity: Severity;
  form: SeverityForm;
  errors: Errors;
  people: { id: string; name: string }[];
  onChange: (fn: (s: SeverityForm) => void) => void;
}) {
  const base = `severities.${severity}`;
  const set = fieldSetters(onChange);
  return (
    <fieldset class="panel severity-policy" data-severity={severity}>
      <legend>
        <SeverityPill severity={severity} />
      </legend>
      <div class="row">
        {SLA_CLOCKS.map((clock) => (
          <DurationInput
            key={clock}
            id={`${severity}-${clock}`}
            label={CLOCK_LABELS[clock]}
            value={form[clock]}
            error={errors.get(`${base}.${clock}_seconds`)}
            onChange={set(clock)}
          />
        ))}
      </div>
      <h3>While nobody picks it up</h3>
      {errors.get(`${base}.levels`) && <p class="field-error">{errors.get(`${base}.levels`)}</p>}
      {form.levels.length === 0 && <p class="hint">No re-escalation: the card keeps asking everyone.</p>}
      <ol class="levels">
        {form.levels.map((level, i) => (
          <LevelRow
            key={i}
            id={`${severity}-level-${i}`}
            index={i}
            level={level}
            people={people}
            errors={errors}
            base={`${base}.levels.${i}`}
            onChange={(fn) => onChange((s) => fn(s.levels[i] as LevelForm))}
            onRemove={() => onChange((s) => void s.levels.splice(i, 1))}
          />
        ))}
      </ol>
      <button
        type="button"
        class="link-button"
        onClick={() =>
          onChange(
            (s) => void s.levels.push({ after: { value: '5', unit: 'min' }, notify: 'admins', users: [] }),
          )
        }
      >
        Add a level
      </button>
      <NumberField
        id={`${severity}-repeat`}
        label="Then run the levels again, this many more times"
        value={form.repeat}
        error={errors.get(`${base}.repeat`)}
        onInput={set('repeat')}
      />
    </fieldset>
  );
}

function LevelRow({
  id,
  index,
  level,
  people,
  errors,
  base,
  onChange,
  onRemove,
}: {
  id: string;
  index: number;
  level: LevelForm;
  people: { id: string; name: string }[];
  errors: Errors;
  base: string;
  onChange: (fn: (l: LevelForm) => void) => void;
  onRemove: () => void;
}) {
  const notifyError = errors.get(`${base}.notify`);
  const set = fieldSetters(onChange);
  return (
    <li class="level">
      <span class="level-name">Level {index + 1}</span>
      <DurationInput
        id={`${id}-after`}
        label={index === 0 ? 'after (from creation or release)' : 'after the previous level'}
        value={level.after}
        error={errors.get(`${base}.after_seconds`)}
        onChange={set('after')}
      />
      <div class="field">
        <label for={`${id}-notify`}>ask</label>
        <select
          id={`${id}-notify`}
          value={level.notify}
          aria-invalid={notifyError ? true : undefined}
          aria-describedby={notifyError ? `${id}-notify-error` : undefined}
          onChange={(e) => set('notify')(e.currentTarget.value as LevelForm['notify'])}
        >
          <option value="everyone">everyone</option>
          <option value="admins">admins</option>
          <option value="users">these people…</option>
        </select>
        {notifyError && (
          <span class="field-error" id={`${id}-notify-error`}>
            {notifyError}
          </span>
        )}
      </div>
      {level.notify === 'users' && (
        <fieldset class="people">
          <legend>People to ask at level {index + 1}</legend>
          {people.map((p) => (
            <label key={p.id}>
              <input
                type="checkbox"
                checked={level.users.includes(p.id)}
                onChange={(e) =>
                  onChange((l) => {
                    const on = e.currentTarget.checked;
                    l.users = on ? [...l.users, p.id] : l.users.filter((u) => u !== p.id);
                  })
                }
              />{' '}
              {p.name}
            </label>
          ))}
        </fieldset>
      )}
      <button type="button" class="link-button" onClick={onRemove}>
        Remove level {index + 1}
      </button>
    </li>
  );
}

/** A number field on a line of its own, with its label. */
function NumberField({ label, ...input }: { label: string } & Parameters<typeof NumberInput>[0]) {
  return (
    <div class="field">
      <label for={input.id}>{label}</label>
      <NumberInput {...input} />
    </div>
  );
}

function NumberInput({
  id,
  value,
  error,
  onInput,
  showError = true,
}: {
  id: string;
  value: string;
  error: string | undefined;
  onInput: (v: string) => void;
  /** False when the caller shows the message itself (below a number and its unit). */
  showError?: boolean;
}) {
  return (
    <>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      {error && showError && (
        <span class="field-error" id={`${id}-error`}>
          <Icon name="warning" /> {error}
        </span>
      )}
    </>
  );
}

function DurationInput({
  id,
  label,
  value,
  error,
  onChange,
}: {
  id: string;
  label: string;
  value: DurationField;
  error: string | undefined;
  onChange: (d: DurationField) => void;
}) {
  return (
    <div class="field duration">
      <label for={id}>{label}</label>
      <span class="duration-inputs">
        <NumberInput
          id={id}
          value={value.value}
          error={error}
          showError={false}
          onInput={(v) => onChange({ ...value, value: v })}
        />
        <select
          aria-label={`${label}: unit`}
          value={value.unit}
          onChange={(e) => onChange({ ...value, unit: e.currentTarget.value as Unit })}
        >
          {(Object.keys(UNITS) as Unit[]).map((u) => (
            <option key={u} value={u}>
              {UNIT_LABELS[u]}
            </option>
          ))}
        </select>
      </span>
      {error && (
        <span class="field-error" id={`${id}-error`}>
          <Icon name="warning" /> {error}
        </span>
      )}
    </div>
  );
}
