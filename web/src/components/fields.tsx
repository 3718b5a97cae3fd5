import type { ComponentChildren } from 'preact';

// A form's fields as label and control side by side (the form's own layout places them), the
// label tied to its control by id.

interface FieldProps<T extends string> {
  id: string;
  label: ComponentChildren;
  value: T;
  onValue: (value: T) => void;
}

/** A one-line text input. */
export function TextField({
  id,
  label,
  value,
  onValue,
  ...input
}: FieldProps<string> & { required?: boolean; maxLength?: number; placeholder?: string }) {
  return (
    <>
      <label for={id}>{label}</label>
      <input id={id} {...input} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </>
  );
}

/** A text area. */
export function TextAreaField({
  id,
  label,
  value,
  onValue,
  ...area
}: FieldProps<string> & { rows: number; required?: boolean; class?: string }) {
  return (
    <>
      <label for={id}>{label}</label>
      <textarea id={id} {...area} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </>
  );
}

/** A choice of one of a list's values, each offered by its own name. */
export function SelectField<T extends string>({
  id,
  label,
  value,
  onValue,
  values,
}: FieldProps<T> & { values: readonly T[] }) {
  return (
    <>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onValue(e.currentTarget.value as T)}>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </>
  );
}
