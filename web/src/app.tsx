import { useEffect } from 'preact/hooks';
import { Avatars } from './components/avatars';
import { ConnectionBadge } from './components/connection-badge';
import { type Session, session, signOut } from './lib/auth';
import { feed, startFeed, stopFeed, titleFlasher } from './lib/live-feed';
import { paths, type Route, useRoute } from './lib/router';
import { useStore } from './lib/store';
import { HandoffPage } from './pages/handoff-page';
import { MetricsPage } from './pages/metrics-page';
import { PolicyPage } from './pages/policy-page';
import { QueuePage } from './pages/queue-page';
import { RunPage } from './pages/run-page';
import { RunsPage } from './pages/runs-page';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';
import { SignInPage } from './pages/sign-in-page';
import { WebhookPage } from './pages/webhook-page';
import { WebhooksPage } from './pages/webhooks-page';

const TITLES: Record<Route['name'], string> = {
  queue: 'Queue',
  handoff: 'Hand-off',
  sessions: 'Sessions',
  session: 'Session',
  runs: 'Runs',
  run: 'Run',
  metrics: 'Metrics',
  webhooks: 'Webhooks',
  webhook: 'Webhook',
  policy: 'Escalation policy',
  'not-found': 'Not found',
};

export function App() {
  const user = useStore(session);
  const route = useRoute();

  useEffect(() => {
    if (user) startFeed(user);
    else stopFeed();
  }, [user?.token]);

  useEffect(() => {
    titleFlasher?.setBaseTitle(user ? `${TITLES[route.name]} · Switchboard` : 'Sign in · Switchboard');
  }, [route.name, user]);

  if (!user) return <SignInPage />;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header user={user} route={route} />
      <main id="main" tabIndex={-1}>
        <Screen route={route} user={user} />
      </main>
    </>
  );
}

function Header({ user, route }: { user: Session; route: Route }) {
  const f = useStore(feed);
  const links: { href: string; label: string; active: boolean }[] = [
    { href: paths.queue(), label: 'Queue', active: route.name === 'queue' || route.name === 'handoff' },
    {
      href: paths.sessions(),
      label: 'Sessions',
      active: route.name === 'sessions' || route.name === 'session',
    },
    { href: paths.runs(), label: 'Runs', active: route.name === 'runs' || route.name === 'run' },
  ];
  if (user.role === 'admin') {
    links.push({ href: paths.metrics(), label: 'Metrics', active: route.name === 'metrics' });
    links.push({
      href: paths.webhooks(),
      label: 'Webhooks',
      active: route.name === 'webhooks' || route.name === 'webhook',
    });
  }
  links.push({ href: paths.policy(), label: 'Policy', active: route.name === 'policy' });
  return (
    <header class="top">
      <a class="brand" href={paths.queue()}>
        Switchboard
      </a>
      <nav aria-label="Main">
        <ul>
          {links.map((l) => (
            <li key={l.href}>
              <a href={l.href} aria-current={l.active ? 'page' : undefined}>
                {l.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="top-right">
        {f && <OnlineRoster feed={f} me={user.userId} />}
        {f && <FeedBadge />}
        <span class="who" title={`${user.role} in account ${user.accountId}`}>
          {user.name} <span class="role">({user.role})</span>
        </span>
        <button type="button" class="link-button" onClick={() => signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function FeedBadge() {
  const f = useStore(feed);
  if (!f) return null;
  return <FeedBadgeInner feed={f} />;
}

function FeedBadgeInner({ feed: f }: { feed: NonNullable<ReturnType<typeof feed.get>> }) {
  const state = useStore(f.state);
  return <ConnectionBadge status={state.stream} onRetry={() => f.reconnectNow()} />;
}

/** Who has the queue open (presence): initials, names on hover and for screen readers. */
function OnlineRoster({ feed: f, me }: { feed: NonNullable<ReturnType<typeof feed.get>>; me: string }) {
  const state = useStore(f.state);
  if (state.presence.online.length === 0) return null;
  return (
    <span class="roster" data-testid="online-roster">
      <span class="roster-label" aria-hidden="true">
        Online
      </span>
      <Avatars people={state.presence.online} label="Online now" meId={me} max={6} />
    </span>
  );
}

function Screen({ route, user }: { route: Route; user: Session }) {
  switch (route.name) {
    case 'queue':
      return <QueuePage user={user} query={route.query} />;
    case 'handoff':
      return <HandoffPage id={route.id} user={user} />;
    case 'sessions':
      return <SessionsPage user={user} />;
    case 'session':
      return <SessionPage id={route.id} user={user} />;
    case 'runs':
      return <RunsPage user={user} />;
    case 'run':
      // Keyed by id: another run is another page (its stream, selection and loaded data start afresh).
      return <RunPage key={route.id} id={route.id} user={user} />;
    case 'metrics':
      return <MetricsPage user={user} query={route.query} />;
    case 'webhooks':
      return <WebhooksPage user={user} />;
    case 'webhook':
      return <WebhookPage id={route.id} user={user} />;
    case 'policy':
      return <PolicyPage user={user} />;
    case 'not-found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={paths.queue()}>Back to the queue</a>.
          </p>
        </section>
      );
  }
}
