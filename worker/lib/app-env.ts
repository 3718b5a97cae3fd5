import type { Config } from '../config';
import type { Role } from '../contract/statuses';
import type { Db } from '../db/client';

export type { Role };

/** Who is calling, from a verified token; `accountId` is canonical (lower-case, hyphenated). */
export interface Identity {
  userId: string;
  accountId: string;
  role: Role;
  name: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    /** This request's id: a sane incoming `X-Request-Id`, else a new one; every answer carries it. */
    requestId: string;
    identity: Identity;
    jwtPayload: unknown;
    /** Opens (once per request) the database and provisions the caller's account and user. */
    db: () => Promise<Db>;
    /** Work to finish after the response is sent (before the request's pool is closed). */
    afterResponse: (work: Promise<unknown>) => void;
  };
}
