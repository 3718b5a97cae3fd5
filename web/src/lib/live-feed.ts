import { api, authHeaders, data, retryRead } from './api';
import { type Session, signOut } from './auth';
import { EscalationFeed } from './escalation-feed';
import { Store } from './store';
import { TitleFlasher } from './title-flash';

// The one escalation feed of the signed-in user, shared by every screen, and the tab title that
// counts new escalations while the tab is hidden.

export const feed = new Store<EscalationFeed | null>(null);
export const titleFlasher =
  typeof document === 'undefined' ? null : new TitleFlasher(document, document.title);

const onOnline = () => feed.get()?.reconnectNow();

export function startFeed(s: Session) {
  stopFeed();
  const f = new EscalationFeed({
    loadSnapshot: () =>
      retryRead(() => data(api.GET('/v1/escalations', { params: { query: { limit: 100 } } }))),
    streamUrl: '/v1/escalations/stream',
    headers: authHeaders,
    onNewCard: () => titleFlasher?.notify(1),
  });
  // A token that expires while the stream is open: back to the sign-in screen, saying why.
  f.state.subscribe((st) => {
    if (st.stream.state === 'unauthorized')
      signOut(`Signed out: ${st.stream.error ?? 'the token was refused'}.`);
  });
  feed.set(f);
  window.addEventListener('online', onOnline);
  void f.start();
  return s;
}

export function stopFeed() {
  feed.get()?.stop();
  feed.set(null);
  window.removeEventListener('online', onOnline);
  titleFlasher?.clear();
}
