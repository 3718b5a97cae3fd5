// Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature` holds
// `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the base64 part of a `whsec_`
// secret, one per active secret separated by spaces. WebCrypto does the HMAC (native, async: no
// pure-JS hashing on the hub's thread); test/webhooks.test.ts verifies deliveries with the
// `standardwebhooks` library itself.

const PREFIX = 'whsec_';
const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A new signing secret: `whsec_` and 32 random bytes in base64 (the spec asks for 24 to 64). */
export function newSecret(): string {
  return `${PREFIX}${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    const raw = fromBase64(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret);
    key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    // A handful of endpoints per account: the cache stays small, and is dropped with the isolate.
    if (keys.size > 1000) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

/** One `v1,<signature>` per secret, space-separated: the value of `webhook-signature`. */
export async function signatureHeader(
  secrets: readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): Promise<string> {
  const content = encoder.encode(`${messageId}.${timestampSeconds}.${body}`);
  const signed = await Promise.all(
    secrets.map(
      async (s) => `v1,${base64(new Uint8Array(await crypto.subtle.sign('HMAC', await keyOf(s), content)))}`,
    ),
  );
  return signed.join(' ');
}
