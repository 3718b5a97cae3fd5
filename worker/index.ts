import { app } from './app';

export { AccountHub } from './hub/account-hub';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
