import { and, eq, sql } from 'drizzle-orm';
import type { AiAssessmentJson, EscalationCard } from '../contract/events';
import { type Db, transaction } from '../db/client';
import { type HandoffRow, handoffs, type SessionRow, type SessionStepRow, sessions } from '../db/schema';
import type { HubEvent } from '../hub/hub-module';
import { cleanJson, cleanText } from '../lib/json-safety';
import type { LlmProvider } from '../providers/llm-provider';
import { sessionStepsOf } from '../sessions/session-store';
import { loadCard } from './cards';
import { recordChange } from './outbox';
import { recordTimeline } from './timeline-store';

export interface AssessmentInput {
  handoff: Pick<HandoffRow, 'reason' | 'severity' | 'intent'>;
  session: Pick<SessionRow, 'title' | 'problemSummary' | 'customer'>;
  steps: Pick<SessionStepRow, 'action' | 'outcome' | 'notes'>[];
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The deterministic summary used when no provider is configured: what the problem is, what was
 * tried and how it went, and where to start. Labelled `heuristic` on the card.
 */
export function heuristicAssessment(input: AssessmentInput, now = new Date()): AiAssessmentJson {
  const { handoff, session, steps } = input;
  const count = (o: string) => steps.filter((s) => s.outcome === o).length;
  const tried =
    steps.length === 0
      ? 'Nothing has been recorded as tried yet.'
      : `${steps.length} step${steps.length === 1 ? '' : 's'} tried: ${count('failed')} failed, ${count('partial')} partial, ${count('worked')} worked, ${count('unknown')} unknown.`;
  const partial = steps.filter((s) => s.outcome === 'partial').at(-1);
  const failed = steps.filter((s) => s.outcome === 'failed').map((s) => s.action);
  const next: string[] = [];
  if (partial) next.push(`Continue from the partial result: ${clip(partial.action, 120)}`);
  if (failed.length > 0) next.push(`Do not repeat what failed: ${clip(failed.join('; '), 200)}`);
  if (steps.length === 0) next.push('Reproduce the problem and record the first step.');
  if (handoff.severity === 'urgent' || handoff.severity === 'high') {
    next.push('Contact the customer now: the escalation is marked high priority.');
  }
  next.push(`Address the escalation reason: ${clip(handoff.reason, 160)}`);
  return {
    source: 'heuristic',
    provider: 'heuristic',
    model: null,
    summary: `${session.customer ? `${session.customer}: ` : ''}${clip(session.problemSummary, 280)} ${tried}`,
    likely_cause: null,
    suggested_next_steps: next,
    generated_at: now.toISOString(),
  };
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
      'You assess support escalations. Answer with JSON only: {"summary": string, "likely_cause": string|null, "suggested_next_steps": string[]}.',
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
  let next: string[] = [];
  const json = /\{[\s\S]*\}/.exec(text)?.[0];
  if (json) {
    try {
      const parsed = JSON.parse(json) as Record<string, unknown>;
      if (typeof parsed.summary === 'string') summary = parsed.summary;
      if (typeof parsed.likely_cause === 'string') likelyCause = parsed.likely_cause;
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
    suggested_next_steps: next.map((s) => clip(s, 300)),
    generated_at: now.toISOString(),
  };
}

async function loadInput(db: Db, accountId: string, handoffId: string): Promise<AssessmentInput | undefined> {
  const [row] = await db
    .select({ handoff: handoffs, session: sessions })
    .from(handoffs)
    .innerJoin(sessions, eq(sessions.id, handoffs.sessionId))
    .where(and(eq(handoffs.id, handoffId), eq(handoffs.accountId, accountId)));
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
 */
export async function assessHandoff(
  db: Db,
  provider: LlmProvider | null,
  accountId: string,
  handoffId: string,
  signal?: AbortSignal,
): Promise<AssessOutcome> {
  const input = await loadInput(db, accountId, handoffId);
  if (!input) return { kind: 'missing' };
  let assessment: AiAssessmentJson;
  if (provider === null) {
    assessment = heuristicAssessment(input);
  } else {
    const { system, prompt } = assessmentPrompt(input);
    const answer = await provider.complete({ system, prompt, ...(signal ? { signal } : {}) });
    assessment = parseAssessment(answer.text, provider.name, answer.model);
  }
  return store(db, accountId, handoffId, { aiStatus: 'done', aiAssessment: assessment, aiError: null });
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
      .set({ ...clean, version: sql`${handoffs.version} + 1`, updatedAt: sql`now()` })
      .where(
        and(eq(handoffs.id, handoffId), eq(handoffs.accountId, accountId), eq(handoffs.aiStatus, 'pending')),
      )
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
        details: {
          ai_status: card.ai_status,
          ...(card.ai_assessment
            ? { source: card.ai_assessment.source, provider: card.ai_assessment.provider }
            : {}),
          ...(card.ai_error ? { error: card.ai_error } : {}),
        },
      },
    ]);
    return { kind: 'assessed', card, event: await recordChange(tx, accountId, 'escalation.assessed', card) };
  });
}
