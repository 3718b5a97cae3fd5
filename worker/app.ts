import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { createMiddleware } from 'hono/factory';
import { getConfig } from './config';
import { answerHeaders } from './lib/answer-headers';
import type { AppEnv } from './lib/app-env';
import { authenticate } from './lib/auth';
import { jsonOnly, limitBody } from './lib/body-guards';
import { database } from './lib/database';
import { notFound } from './lib/errors';
import { setLogLevel } from './lib/log';
import { onError } from './lib/on-error';
import { validationHook } from './lib/openapi';
import { devRoutes } from './routes/dev';
import { escalationPolicyRoutes } from './routes/escalation-policy';
import { escalationRoutes } from './routes/escalations';
import { graphRoutes } from './routes/graphs';
import { handoffRoutes } from './routes/handoffs';
import { healthRoutes } from './routes/health';
import { runRoutes } from './routes/runs';
import { sessionRoutes } from './routes/sessions';
import { usageRoutes } from './routes/usage';
import { userRoutes } from './routes/users';
import { webhookRoutes } from './routes/webhooks';

const withConfig = createMiddleware<AppEnv>(async (c, next) => {
  const config = getConfig(c.env);
  setLogLevel(config.LOG_LEVEL);
  c.set('config', config);
  await next();
});

/** The document's own fields; the paths and schemas come from the routes. */
export const API_DESCRIPTION: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'Switchboard API',
    version: '1',
    description:
      'Escalation routing and run streaming for support engineers. Every `/v1` call takes `Authorization: Bearer <JWT>`; every error is `{"error": {"code", "message", "details?"}}`.',
  },
  security: [{ bearerAuth: [] }],
};

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'Claims `sub`, `acct`, `role` (engineer | admin | viewer), `name`, `exp`',
});

// Request id and security headers on every answer, errors and the description included: first.
app.use(answerHeaders);

app
  .onError(onError)
  .notFound((c) => onError(notFound(`route ${c.req.method} ${c.req.path.slice(0, 200)}`), c))
  // The description needs neither configuration nor a token: registered before both.
  .doc31('/openapi.json', API_DESCRIPTION)
  .get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'Switchboard API' }))
  .use(withConfig)
  .route('/healthz', healthRoutes)
  .route('/dev', devRoutes)
  .use('/v1/*', limitBody, jsonOnly, authenticate, database)
  .route('/v1/sessions', sessionRoutes)
  .route('/v1', handoffRoutes)
  .route('/v1/escalations', escalationRoutes)
  .route('/v1/escalation-policy', escalationPolicyRoutes)
  .route('/v1/users', userRoutes)
  .route('/v1/graphs', graphRoutes)
  .route('/v1', runRoutes)
  .route('/v1/webhooks', webhookRoutes)
  .route('/v1/usage', usageRoutes);
