// The queue's text search (`GET /v1/escalations?q=`), shared by the server's query and the site,
// which applies it to cards that arrive live: every word must appear, in any case, in the
// session's title, problem summary or customer.

/** At most this many words of a search count; more would only slow the query down. */
export const MAX_SEARCH_WORDS = 8;

/** The words of a search, lower-cased. */
export const searchWords = (text: string): string[] =>
  text.toLowerCase().split(/\s+/).filter(Boolean).slice(0, MAX_SEARCH_WORDS);

/** Whether a session's text holds every word (the site's side of the server's `ilike`). */
export function matchesSearch(
  session: { title: string; problem_summary: string; customer: string | null },
  words: readonly string[],
): boolean {
  if (words.length === 0) return true;
  const text = [session.title, session.problem_summary, session.customer ?? ''].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}
