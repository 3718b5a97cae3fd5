/**
 * The most items a list endpoint answers at once (`limit`): the server's validation and the site,
 * which asks for as many as the reader already holds when it reads a list again.
 */
export const MAX_PAGE_LIMIT = 200;
