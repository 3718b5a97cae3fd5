import type { EscalationCard } from '../../../worker/contract/events';

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

export function mergeCard(cards: CardList, card: EscalationCard): MergeResult {
  const i = cards.findIndex((c) => c.id === card.id);
  if (i === -1) return { cards: [...cards, card].sort(newerFirst), change: 'added' };
  const held = cards[i] as EscalationCard;
  if (held.version >= card.version) return { cards, change: 'unchanged' };
  const next = cards.slice();
  next[i] = card;
  return { cards: next, change: 'updated' };
}

/** Merges a whole snapshot; cards the snapshot does not mention are kept (they may be newer). */
export function mergeCards(cards: CardList, incoming: readonly EscalationCard[]): CardList {
  let out = cards;
  for (const card of incoming) out = mergeCard(out, card).cards;
  return out;
}
