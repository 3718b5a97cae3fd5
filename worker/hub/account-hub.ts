import { DurableObject } from 'cloudflare:workers';

export class AccountHub extends DurableObject<Env> {
  async ping(): Promise<string> {
    return 'pong';
  }
}
