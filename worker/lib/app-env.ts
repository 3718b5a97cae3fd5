import type { Config } from '../config';
import type { Db } from '../db/client';
import type { Identity } from './identity';

export type { Identity, Role } from './identity';

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
