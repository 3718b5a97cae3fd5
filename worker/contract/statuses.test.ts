import { describe, expect, it } from 'vitest';
import {
  aiStatusEnum,
  handoffIntentEnum,
  handoffStatusEnum,
  roleEnum,
  runStatusEnum,
  severityEnum,
  stepOutcomeEnum,
} from '../db/schema';
import {
  AI_STATUSES,
  HANDOFF_INTENTS,
  HANDOFF_STATUSES,
  isOneOf,
  LIVE_RUN_STATUSES,
  ROLES,
  RUN_STATUSES,
  SEVERITIES,
  STEP_OUTCOMES,
  TERMINAL_RUN_STATUSES,
  zeroCounts,
} from './statuses';

describe('status lists', () => {
  it('are the Postgres enums', () => {
    expect(roleEnum.enumValues).toEqual([...ROLES]);
    expect(stepOutcomeEnum.enumValues).toEqual([...STEP_OUTCOMES]);
    expect(handoffIntentEnum.enumValues).toEqual([...HANDOFF_INTENTS]);
    expect(severityEnum.enumValues).toEqual([...SEVERITIES]);
    expect(handoffStatusEnum.enumValues).toEqual([...HANDOFF_STATUSES]);
    expect(aiStatusEnum.enumValues).toEqual([...AI_STATUSES]);
    expect(runStatusEnum.enumValues).toEqual([...RUN_STATUSES]);
  });

  it('split run statuses into live and terminal, each once', () => {
    expect([...LIVE_RUN_STATUSES, ...TERMINAL_RUN_STATUSES].sort()).toEqual([...RUN_STATUSES].sort());
  });

  it('narrow unknown values', () => {
    expect(isOneOf(SEVERITIES, 'urgent')).toBe(true);
    expect(isOneOf(SEVERITIES, 'critical')).toBe(false);
    expect(isOneOf(SEVERITIES, 3)).toBe(false);
  });

  it('give a zero for every value', () => {
    expect(zeroCounts(HANDOFF_STATUSES)).toEqual({ open: 0, picked_up: 0, resolved: 0, cancelled: 0 });
  });
});
