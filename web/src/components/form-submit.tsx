import type { ComponentChildren } from 'preact';
import { Alert } from './alert';

/**
 * A form's end: why it was refused or its last send failed, if it was, and its submit button,
 * disabled while the form is sending (see useAction).
 */
export function FormSubmit({
  busy,
  error,
  errorId,
  children,
}: {
  busy: boolean;
  error: string | null;
  /** For a field that names the message as its description. */
  errorId?: string;
  children: ComponentChildren;
}) {
  return (
    <>
      <Alert id={errorId} text={error} />
      <button type="submit" class="primary" disabled={busy}>
        {children}
      </button>
    </>
  );
}
