import { useState } from 'preact/hooks';

/** A signing secret, shown once, with a copy button; it is gone once dismissed. */
export function SecretReveal({
  secret,
  title,
  onDone,
}: {
  secret: string;
  title: string;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <section class="panel secret-reveal" aria-labelledby="secret-heading">
      <h2 id="secret-heading">{title}</h2>
      <p>
        Copy it now: it is <strong>shown only this once</strong>. The receiver verifies each delivery’s{' '}
        <code>webhook-signature</code> with it (any Standard Webhooks library does).
      </p>
      <div class="secret-row">
        <code class="mono secret-value" data-testid="secret">
          {secret}
        </code>
        <button
          type="button"
          class="primary"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(secret);
              setCopied('copied');
            } catch {
              setCopied('failed');
            }
          }}
        >
          {copied === 'copied' ? '✓ Copied' : 'Copy'}
        </button>
      </div>
      <p role="status" class={copied === 'failed' ? 'error' : 'hint'}>
        {copied === 'copied' && 'Copied to the clipboard.'}
        {copied === 'failed' && 'The browser refused to copy: select the secret and copy it by hand.'}
      </p>
      <button type="button" onClick={onDone}>
        I have stored it
      </button>
    </section>
  );
}
