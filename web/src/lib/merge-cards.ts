import type { EscalationCard } from '../../../worker/contract/events';
import { ACTIVE_HANDOFF_STATUSES } from '../../../worker/contract/statuses';

/**
 * The queue's cards, newest first. A card that is already held is replaced only by a higher
 * version, so the snapshot and the stream merge in any order and a replayed event changes nothing.
 */
export type CardList = readonly EscalationCard[];

export type MergeResult = { cards: CardList; change: 'added' | 'updated' | 'unchanged' };

const newerFirst = (a: EscalationCard, b: EscalationCard) =>
  a.created_at === b.created_at
    ? a.id < b.id
      ? 1
      : a.id > b.id
        ? -1
        : 0
    : a.created_at < b.created_at
      ? 1
      : -1;

/**
 * Closed (resolved, cancelled) cards a client holds at most: a tab left open for weeks on a busy
 * account would otherwise hold every card ever created. Open and picked-up cards are all kept;
 * the oldest closed ones go (the server pages the rest).
 */
export const MAX_CLOSED_CARDS = 200;

const active: ReadonlySet<string> = new Set(ACTIVE_HANDOFF_STATUSES);

/** The list without the closed cards past the newest MAX_CLOSED_CARDS (it is newest first). */
export function boundCards(cards: CardList): CardList {
  let closed = 0;
  const kept = cards.filter((c) => active.has(c.status) || ++closed <= MAX_CLOSED_CARDS);
  return kept.length === cards.length ? cards : kept;
}

/**
 * `bound: false` keeps every closed card: for a list whose length the reader chose (the queue's
 * pages), not one that grows by itself.
 */
export function mergeCard(
  cards: CardList,
  card: EscalationCard,
  opts: { bound?: boolean } = {},
): MergeResult {
  const bound = opts.bound === false ? (list: CardList) => list : boundCards;
  const i = cards.findIndex((c) => c.id === card.id);
  if (i === -1) return { cards: bound([...cards, card].sort(newerFirst)), change: 'added' };
  const held = cards[i] as EscalationCard;
  if (held.version >= card.version) return { cards, change: 'unchanged' };
  const next = cards.slice();
  next[i] = card;
  return { cards: bound(next), change: 'updated' };
}

/** Merges a whole snapshot; cards the snapshot does not mention are kept (they may be newer). */
export function mergeCards(cards: CardList, incoming: readonly EscalationCard[]): CardList {
  let out = cards;
  for (const card of incoming) out = mergeCard(out, card).cards;
  return out;
}
