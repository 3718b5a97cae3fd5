import { conflict, notFound } from '../lib/errors';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { listPage } from '../lib/pagination';
import {
  CreateSessionBody,
  CreateStepBody,
  SessionDetailSchema,
  SessionSchema,
  StepSchema,
  sessionJson,
  stepJson,
} from '../schemas/sessions';
import {
  addStep,
  createSession,
  findSession,
  listSessions,
  MAX_STEPS_PER_SESSION,
  sessionStepsOf,
} from '../sessions/session-store';

const route = routesOf('Sessions');

const openSession = route.post('/', {
  summary: 'Open a troubleshooting session',
  request: { body: jsonBody(CreateSessionBody) },
  answers: { 201: jsonResponse(SessionDetailSchema, 'The new session, with no steps yet') },
});

const list = route.list('/', {
  summary: 'List the account’s sessions, newest first',
  item: SessionSchema,
  name: 'Session',
  what: 'sessions',
});

const one = route.get('/{id}', {
  summary: 'One session, with its steps',
  answers: { 200: jsonResponse(SessionDetailSchema, 'The session and every step, oldest first') },
});

const recordStep = route.post('/{id}/steps', {
  summary: 'Record what was tried',
  request: { body: jsonBody(CreateStepBody) },
  answers: { 201: jsonResponse(StepSchema, 'The recorded step') },
  errors: [409],
});

export const sessionRoutes = createRouter()
  .openapi(openSession, async (c) => {
    const row = await createSession(await c.var.db(), c.var.identity, c.req.valid('json'));
    return c.json({ ...sessionJson(row), steps: [] }, 201, { Location: `/v1/sessions/${row.id}` });
  })
  .openapi(list, async (c) => {
    const db = await c.var.db();
    const accountId = c.var.identity.accountId;
    return c.json(
      await listPage(c.req.valid('query'), (w) => listSessions(db, accountId, w), sessionJson),
      200,
    );
  })
  .openapi(one, async (c) => {
    const { id } = c.req.valid('param');
    const db = await c.var.db();
    const row = await findSession(db, c.var.identity.accountId, id);
    if (!row) throw notFound('session');
    const steps = await sessionStepsOf(db, id);
    return c.json({ ...sessionJson(row), steps: steps.map(stepJson) }, 200);
  })
  .openapi(recordStep, async (c) => {
    const { id } = c.req.valid('param');
    const added = await addStep(await c.var.db(), c.var.identity, id, c.req.valid('json'));
    if (!added.ok && added.reason === 'no_session') throw notFound('session');
    if (!added.ok) throw conflict('session_full', `a session holds at most ${MAX_STEPS_PER_SESSION} steps`);
    return c.json(stepJson(added.step), 201);
  });
