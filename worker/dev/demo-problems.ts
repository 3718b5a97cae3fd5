import { z } from 'zod';
import { CreateStepBody } from '../schemas/sessions';
import problems from './demo-problems.json';

// What the demo account's support team worked on this week: the problems its sessions are about,
// what was tried before escalating, what the person who picked each one up did, and why it was
// escalated. The content is data (demo-problems.json); it is checked here, once, against what the
// story needs and what the API would accept for a step, so a typo fails the tests rather than the
// seed halfway through a week.

const text = z.string().trim().min(1);

const DemoProblemSchema = z.strictObject({
  title: text,
  summary: text,
  /** The story takes turns between the first two. */
  customers: z.array(text).min(2).readonly(),
  /** Tried by the engineer who opened the session, before escalating. */
  tried: z.array(CreateStepBody).readonly(),
  /** Done by whoever picked the hand-off up, before closing it. */
  followUp: z.array(CreateStepBody).readonly(),
  /** One per hand-off of the session, taken in turn. */
  reasons: z.array(text).min(1).readonly(),
});

export type DemoStep = z.infer<typeof CreateStepBody>;
export type DemoProblem = z.infer<typeof DemoProblemSchema>;

export const DEMO_PROBLEMS: readonly DemoProblem[] = z.array(DemoProblemSchema).min(1).parse(problems);
