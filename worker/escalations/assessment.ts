import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../config';
import type { AiAssessmentJson, EscalationCard } from '../contract/events';
import { type Db, transaction } from '../db/client';
import { type At, nowValue } from '../db/clock';
import { type HandoffRow, handoffs, type SessionRow, type SessionStepRow, sessions } from '../db/schema';
import type { HubEvent } from '../hub/hub-module';
import { inAccount } from '../lib/account-rows';
import { cleanJson, cleanText } from '../lib/json-safety';
import { providerFromConfig } from '../providers/from-config';
import type { LlmProvider } from '../providers/llm-provider';
import { sessionStepsOf } from '../sessions/session-store';
import { loadCard } from './cards';
import { heuristicAssessment } from './heuristic-assessment';
import { recordChange } from './outbox';
import { recordTimeline } from './timeline-store';

export interface AssessmentInput {
  handoff: Pick<HandoffRow, 'reason' | 'severity' | 'intent'>;
  session: Pick<SessionRow, 'title' | 'problemSummary' | 'customer'>;
  steps: Pick<SessionStepRow, 'action' | 'outcome' | 'notes'>[];
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Who assesses (DESIGN.md "Graphs and runs"): a real model when one is configured (`openai`,
 * `workers-ai`); otherwise (`none`, or `fake`, the dev and test default) the heuristic, which
 * reads the record itself and says so, rather than a stand-in model's text.
 */
export function assessmentProvider(config: Config, env: object): LlmProvider | null {
  return config.LLM_PROVIDER === 'fake' ? null : providerFromConfig(config, env);
}

// The newest steps are the ones that matter for what to do next; the prompt stays bounded.
const PROMPT_STEPS = 50;

export function assessmentPrompt(input: AssessmentInput): { system: string; prompt: string } {
  const steps = input.steps
    .slice(-PROMPT_STEPS)
    .map(
      (s, i) =>
        `${i + 1}. ${clip(s.action, 300)} -> ${s.outcome}${s.notes ? ` (${clip(s.notes, 300)})` : ''}`,
    )
    .join('\n');
  return {
    system:
      'You assess support escalations. Answer with JSON only: {"summary": string, "likely_cause": string|null, "ruled_out": string[] (what the steps tried so far rule out), "suggested_next_steps": string[]}.',
    prompt: [
      `Title: ${input.session.title}`,
      `Customer: ${input.session.customer ?? 'unknown'}`,
      `Problem: ${input.session.problemSummary}`,
      `Escalation (${input.handoff.intent}, severity ${input.handoff.severity}): ${input.handoff.reason}`,
      `Tried:\n${steps || '(nothing recorded)'}`,
    ].join('\n'),
  };
}

/** Reads a model's answer: the JSON asked for when it complied, otherwise its text as the summary. */
export function parseAssessment(
  text: string,
  provider: string,
  model: string,
  now = new Date(),
): AiAssessmentJson {
  let summary = text.trim();
  let likelyCause: string | null = null;
  let ruledOut: string[] = [];
  let next: string[] = [];
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (json) {
    try {
      const parsed = JSON.parse(json) as Record<string, unknown>;
      if (typeof parsed.summary === 'string') summary = parsed.summary;
      if (typeof parsed.likely_cause === 'string') likelyCause = parsed.likely_cause;
      if (Array.isArray(parsed.ruled_out)) {
        ruledOut = parsed.ruled_out.filter((s): s is string => typeof s === 'string').slice(0, 10);
      }
      if (Array.isArray(parsed.suggested_next_steps)) {
        next = parsed.suggested_next_steps.filter((s): s is string => typeof s === 'string').slice(0, 10);
      }
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return {
    source: 'llm',
    provider,
    model,
    summary: clip(summary || '(empty answer)', 2_000),
    likely_cause: likelyCause ? clip(likelyCause, 500) : null,
    ruled_out: ruledOut.map((s) => clip(s, 300)),
    suggested_next_steps: next.map((s) => clip(s, 300)),
    generated_at: now.toISOString(),
  };
}

async function loadInput(db: Db, accountId: string, handoffId: string): Promise<AssessmentInput | undefined> {
  const [row] = await db
    .select({ handoff: handoffs, session: sessions })
    .from(handoffs)
    .innerJoin(sessions, eq(sessions.id, handoffs.sessionId))
    .where(inAccount(handoffs, accountId, handoffId));
  if (!row) return undefined;
  const steps = await sessionStepsOf(db, row.session.id);
  return { handoff: row.handoff, session: row.session, steps };
}

export type AssessOutcome =
  | { kind: 'assessed'; card: EscalationCard; event: HubEvent }
  | { kind: 'already_done' }
  | { kind: 'missing' };

/**
 * Assesses one handoff and stores the result, bumping the card's version. Idempotent: a handoff
 * that is no longer pending is left alone. Provider errors propagate (the hub's job retries them).
 * `at` is the demo seed's clock (db/clock.ts); the hub's job passes none.
 */
export async function assessHandoff(
  db: Db,
  provider: LlmProvider | null,
  accountId: string,
  handoffId: string,
  opts: { signal?: AbortSignal; at?: At } = {},
): Promise<AssessOutcome> {
  const input = await loadInput(db, accountId, handoffId);
  if (!input) return { kind: 'missing' };
  let assessment: AiAssessmentJson;
  if (provider === null) {
    assessment = heuristicAssessment(input, opts.at);
  } else {
    const { system, prompt } = assessmentPrompt(input);
    const answer = await provider.complete({
      system,
      prompt,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    assessment = parseAssessment(answer.text, provider.name, answer.model, opts.at);
  }
  return store(
    db,
    accountId,
    handoffId,
    { aiStatus: 'done', aiAssessment: assessment, aiError: null },
    opts.at,
  );
}

/** Ends a pending assessment as failed with a reason, so no card stays `pending` for ever. */
export function failAssessment(
  db: Db,
  accountId: string,
  handoffId: string,
  reason: string,
): Promise<AssessOutcome> {
  return store(db, accountId, handoffId, {
    aiStatus: 'failed',
    aiAssessment: null,
    aiError: clip(reason, 500),
  });
}

async function store(
  db: Db,
  accountId: string,
  handoffId: string,
  values: Pick<HandoffRow, 'aiStatus' | 'aiAssessment' | 'aiError'>,
  at?: At,
): Promise<AssessOutcome> {
  // Model output may hold text Postgres refuses (U+0000): cleaned, or the job would retry for ever.
  const clean = {
    aiStatus: values.aiStatus,
    aiAssessment: values.aiAssessment && cleanJson(values.aiAssessment),
    aiError: values.aiError && cleanText(values.aiError),
  };
  // The change and its outbox row in one transaction: the assessed card reaches the stream by
  // the same path as every other card change.
  return transaction(db, async (tx): Promise<AssessOutcome> => {
    const [updated] = await tx
      .update(handoffs)
      .set({ ...clean, version: sql`${handoffs.version} + 1`, updatedAt: nowValue(at) })
      .where(and(inAccount(handoffs, accountId, handoffId), eq(handoffs.aiStatus, 'pending')))
      .returning({ id: handoffs.id });
    if (!updated) return { kind: 'already_done' };
    const card = await loadCard(tx, accountId, handoffId);
    if (!card) return { kind: 'missing' };
    await recordTimeline(tx, [
      {
        handoffId,
        accountId,
        version: card.version,
        type: 'assessed',
        actor: null,
        at,
        details: {
          ai_status: card.ai_status,
          ...(card.ai_assessment
            ? { source: card.ai_assessment.source, provider: card.ai_assessment.provider }
            : {}),
          ...(card.ai_error ? { error: card.ai_error } : {}),
        },
      },
    ]);
    return {
      kind: 'assessed',
      card,
      event: await recordChange(tx, accountId, 'escalation.assessed', card, at),
    };
  });
}
