import { z } from '@hono/zod-openapi';

/**
 * Any JSON value, as `z.json()` validates it, named so that the API description can express its
 * recursion (an unnamed recursive schema cannot be written out). Every instance is the same
 * `JsonValue` of the document, whatever error messages it was given.
 */
export const jsonValue = (params?: Parameters<typeof z.json>[0]) => z.json(params).openapi('JsonValue');
