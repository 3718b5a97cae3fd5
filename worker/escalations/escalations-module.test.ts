import { describe, expect, it } from 'vitest';
import { loggedEvent, recordingJobs } from '../../test/hub-module-fakes';
import type { Hub } from '../hub/hub-module';
import { escalationsModule } from './escalations-module';

/** A host that only records what the module asks of its job table. */
function fakeHub() {
  const { jobs, enqueued } = recordingJobs();
  const kv = new Map<string, unknown>();
  const storage = {
    kv: { get: (k: string) => kv.get(k), put: (k: string, v: unknown) => void kv.set(k, v) },
  };
  const hub = { name: 'acct-1', jobs, storage } as unknown as Hub;
  return { hub, enqueued };
}

describe('the escalations hub module', () => {
  it('asks for an assessment of each new card, and keeps the log trimmed', () => {
    const { hub, enqueued } = fakeHub();
    escalationsModule(hub).onPublished?.(loggedEvent('escalation.created'));
    expect(enqueued).toEqual([
      { id: 'assess:h-1', kind: 'assess', payload: { accountId: 'acct-1', handoffId: 'h-1' }, runAt: 1_000 },
      { id: 'purge:escalations', kind: 'purge', payload: { topic: 'escalations' }, runAt: 1_000 + 3_600_000 },
      { id: 'prune-postgres', kind: 'prune-postgres', payload: {}, runAt: 1_000 },
    ]);
  });

  it('prunes Postgres right after activity, at most once an hour, never on a timer of its own', () => {
    const { hub, enqueued } = fakeHub();
    const module = escalationsModule(hub);
    const at = (ms: number) => ({ ...loggedEvent('escalation.picked_up'), at: ms });
    module.onPublished?.(at(3_600_000));
    module.onPublished?.(at(3_600_000 + 59 * 60_000));
    module.onPublished?.(at(3_600_000 + 60 * 60_000));
    expect(enqueued.filter((j) => j.kind === 'prune-postgres').map((j) => j.runAt)).toEqual([
      3_600_000,
      3_600_000 + 60 * 60_000,
    ]);
  });

  it('does not assess other changes, and ignores other topics', () => {
    const { hub, enqueued } = fakeHub();
    const module = escalationsModule(hub);
    module.onPublished?.(loggedEvent('escalation.picked_up'));
    module.onPublished?.(loggedEvent('graph_completed', 'run:r-1'));
    expect(enqueued.map((j) => j.kind)).toEqual(['purge', 'prune-postgres']);
  });

  it('claims the job kinds it runs', () => {
    const { hub } = fakeHub();
    expect(Object.keys(escalationsModule(hub).jobs ?? {}).sort()).toEqual([
      'assess',
      'escalation-timer',
      'prune-postgres',
      'purge',
    ]);
  });
});
