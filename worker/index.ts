import { app } from './app';
import { scheduled } from './scheduled';

export { AccountHub } from './account-hub';
export { OutboxMarker } from './escalations/outbox-marker';
export { RelayHub } from './hub/relay-hub';

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
