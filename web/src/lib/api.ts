import { session, signOut } from './auth';

/** An error answer of the API (DESIGN.md "Errors"), or a network failure (status 0). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const authHeaders = (): Record<string, string> => {
  const s = session.get();
  return s ? { authorization: `Bearer ${s.token}` } : {};
};

/** Calls the API as the signed-in user; a 401 signs out with the reason. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(), ...init.headers };
  let body: string | undefined;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  } catch (err) {
    throw new ApiFailure(0, 'network_error', `The server could not be reached (${(err as Error).message}).`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const failure = new ApiFailure(
      res.status,
      e?.code ?? `http_${res.status}`,
      e?.message ?? `HTTP ${res.status}`,
      e?.details,
    );
    if (res.status === 401 && session.get()) signOut(`Signed out: ${failure.message}.`);
    throw failure;
  }
  return json as T;
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
