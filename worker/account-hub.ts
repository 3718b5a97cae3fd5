import type { PresenceSnapshot, PresenceUser } from './contract/events';
import { escalationsModule } from './escalations/escalations-module';
import { HubHost } from './hub/hub-host';
import type { HubEvent, PublishResult } from './hub/hub-module';
import { type PresenceModule, presenceModule } from './presence/presence-module';
import type {
  CancelRunResult,
  ResumeRunResult,
  RunCheckpointResult,
  RunCheckpointView,
  RunLimits,
  RunSnapshot,
  StartRunRequest,
  StartRunResult,
} from './runs/run-types';
import { type RunsModule, runsModule } from './runs/runs-module';
import { usageSinkFor } from './usage/usage-store';
import { isEndpointsChanged } from './webhooks/webhook-store';
import { type TestResult, type WebhooksModule, webhooksModule } from './webhooks/webhooks-module';

// The one place the hub's modules are wired together. AccountHub is a HubHost (event log,
// subscribers, job table, alarm) with these modules; its methods below are their RPC calls.
// Adding a domain: write its module (see worker/hub/hub-module.ts), list it here, and expose
// its calls.

type Modules = {
  escalations: ReturnType<typeof escalationsModule>;
  runs: RunsModule;
  webhooks: WebhooksModule;
  presence: PresenceModule;
};

/** One per account, addressed by the canonical account UUID (worker/hub/hub-client.ts). */
export class AccountHub extends HubHost<Modules> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(
      ctx,
      env,
      (hub) => ({
        escalations: escalationsModule(hub),
        runs: runsModule(hub),
        webhooks: webhooksModule(hub),
        presence: presenceModule(hub),
      }),
      {
        usageSink: usageSinkFor(env, (work) => ctx.waitUntil(work)),
      },
    );
  }

  /**
   * Events from the Worker (the outbox path). A notice that the account's webhook endpoints changed
   * reloads the hub's copy before the answer (so the change's request is answered once the copy
   * holds it) and is not logged: no subscriber or endpoint ever sees it. A reload that fails throws,
   * so the notice stays pending in the outbox and comes again.
   */
  override async publish(accountId: string, events: HubEvent[]): Promise<PublishResult> {
    if (!events.some(isEndpointsChanged)) return super.publish(accountId, events);
    await this.modules.webhooks.refresh();
    return super.publish(
      accountId,
      events.filter((e) => !isEndpointsChanged(e)),
    );
  }

  // ── presence ──────────────────────────────────────────────────────────────────────────────

  setViewing(handoffId: string, user: PresenceUser, viewing: boolean): void {
    this.modules.presence.setViewing(handoffId, user, viewing);
  }

  presence(): PresenceSnapshot {
    return this.modules.presence.snapshot();
  }

  // ── runs ──────────────────────────────────────────────────────────────────────────────────

  startRun(req: StartRunRequest): Promise<StartRunResult> {
    return this.modules.runs.lifecycle.start(req);
  }

  resumeRun(runId: string, input: unknown, limits: RunLimits): Promise<ResumeRunResult> {
    return this.modules.runs.lifecycle.resume(runId, input, limits);
  }

  cancelRun(runId: string): Promise<CancelRunResult> {
    return this.modules.runs.lifecycle.cancel(runId);
  }

  runSnapshot(runId: string): RunSnapshot | null {
    return this.modules.runs.lifecycle.snapshot(runId);
  }

  runCheckpoint(runId: string, nodeId: string): RunCheckpointResult {
    return this.modules.runs.checkpoint(runId, nodeId);
  }

  runCheckpoints(runId: string): RunCheckpointView[] {
    return this.modules.runs.checkpoints(runId);
  }

  // ── webhooks ──────────────────────────────────────────────────────────────────────────────

  testWebhook(endpointId: string): Promise<TestResult> {
    return this.modules.webhooks.sendTest(endpointId);
  }
}
