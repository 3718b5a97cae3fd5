import { app } from './app';
import { scheduled } from './scheduled';

export { AccountHub } from './account-hub';

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
