/**
 * A message read out the moment it appears (role="alert"): an error by default; nothing while there
 * is none. `inline` when it stands beside a button rather than below a form.
 */
export function Alert({
  text,
  class: look = 'error',
  id,
  inline = false,
}: {
  text: string | null | undefined;
  class?: string;
  id?: string;
  inline?: boolean;
}) {
  if (!text) return null;
  const Tag = inline ? 'span' : 'p';
  return (
    <Tag id={id} class={look} role="alert">
      {text}
    </Tag>
  );
}
