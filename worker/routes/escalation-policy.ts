import { namedUsers } from '../escalations/policy';
import { currentPolicy, notAskable, storePolicy } from '../escalations/policy-store';
import { validationFailed } from '../lib/errors';
import { createRouter, jsonBody, jsonResponse, routesOf } from '../lib/openapi';
import { EscalationPolicyAnswerSchema, EscalationPolicySchema } from '../schemas/escalation-policy';

const route = routesOf('Escalation policy');

const read = route.get('/', {
  summary: 'The account’s escalation policy',
  description: 'SLA targets and re-escalation levels per severity; version 0 is the default.',
  answers: { 200: jsonResponse(EscalationPolicyAnswerSchema, 'The policy cards are created under now') },
});

const replace = route.put('/', {
  summary: 'Set the escalation policy (admins)',
  description:
    'Stores a new version; cards created from now on use it, each card keeps the version it was created under. A 400 names every bad field.',
  roles: ['admin'],
  request: { body: jsonBody(EscalationPolicySchema) },
  answers: { 200: jsonResponse(EscalationPolicyAnswerSchema, 'The stored policy, with its new version') },
});

export const escalationPolicyRoutes = createRouter()
  .openapi(read, async (c) => c.json(await currentPolicy(await c.var.db(), c.var.identity.accountId), 200))
  .openapi(replace, async (c) => {
    const policy = c.req.valid('json');
    const who = c.var.identity;
    const db = await c.var.db();
    const named = namedUsers(policy);
    const unknown = new Set(
      await notAskable(
        db,
        who.accountId,
        named.map((n) => n.id),
      ),
    );
    if (unknown.size > 0) {
      throw validationFailed(
        'body',
        named
          .filter((n) => unknown.has(n.id))
          .map((n) => ({ field: n.field, message: 'must be an engineer or admin of this account' })),
      );
    }
    return c.json(await storePolicy(db, who, policy), 200);
  });
