import type { LoggedEvent } from '../worker/hub/hub-module';
import type { JobQueue } from '../worker/hub/job-queue';

// What a hub module's own tests put in place of its host: a job table that only records what the
// module enqueues, and the events the host would hand its onPublished.

export interface EnqueuedJob<P> {
  id: string;
  kind: string;
  payload: P;
  runAt: number;
}

/** A job table that accepts every enqueue and records it, in order. */
export function recordingJobs<P = unknown>(): { jobs: JobQueue; enqueued: EnqueuedJob<P>[] } {
  const enqueued: EnqueuedJob<P>[] = [];
  const jobs = {
    enqueue: (id: string, kind: string, payload: P, runAt: number) => {
      enqueued.push({ id, kind, payload, runAt });
      return true;
    },
  } as unknown as JobQueue;
  return { jobs, enqueued };
}

/** An event of the log about card h-1, logged at 1 000 ms. */
export const loggedEvent = (type: string, topic = 'escalations', id = 7): LoggedEvent => ({
  key: 'k',
  topic,
  type,
  data: { card: { id: 'h-1' }, version: 1 },
  id,
  at: 1_000,
});
