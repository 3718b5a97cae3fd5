import { describe, expect, it } from 'vitest';
import { MAX_CLOSED_CARDS, mergeCard, mergeCards } from './merge-cards';
import { card } from './test-cards';

describe('mergeCard', () => {
  it('adds new cards newest first', () => {
    let cards = mergeCard([], card('a', 1, '2026-01-01T00:00:01Z')).cards;
    cards = mergeCard(cards, card('c', 1, '2026-01-01T00:00:03Z')).cards;
    cards = mergeCard(cards, card('b', 1, '2026-01-01T00:00:02Z')).cards;
    expect(cards.map((c) => c.id)).toEqual(['c', 'b', 'a']);
  });

  it('keeps the higher version, whatever the order', () => {
    const v1 = card('a', 1, '2026-01-01T00:00:00Z');
    const v2 = card('a', 2, '2026-01-01T00:00:00Z', { status: 'picked_up' });
    const forward = mergeCard(mergeCard([], v1).cards, v2);
    const backward = mergeCard(mergeCard([], v2).cards, v1);
    expect(forward.change).toBe('updated');
    expect(backward.change).toBe('unchanged');
    expect(forward.cards).toEqual([v2]);
    expect(backward.cards).toEqual([v2]);
  });

  it('a replayed event changes nothing and returns the same list', () => {
    const start = mergeCard([], card('a', 3, '2026-01-01T00:00:00Z')).cards;
    const again = mergeCard(start, card('a', 3, '2026-01-01T00:00:00Z'));
    expect(again.change).toBe('unchanged');
    expect(again.cards).toBe(start);
  });

  it('snapshot and stream merge to the same cards in any interleaving, each card once', () => {
    const events = [
      card('a', 1, '2026-01-01T00:00:01Z'),
      card('b', 1, '2026-01-01T00:00:02Z'),
      card('a', 2, '2026-01-01T00:00:01Z', { ai_status: 'done' }),
      card('b', 2, '2026-01-01T00:00:02Z', { status: 'picked_up' }),
      card('a', 3, '2026-01-01T00:00:01Z', { status: 'resolved' }),
    ];
    const expected = ['b@2', 'a@3'];
    for (let i = 0; i < 20; i++) {
      const shuffled = [...events, ...events.slice(0, 3)].sort(() => Math.random() - 0.5);
      const merged = mergeCards([], shuffled);
      expect(merged.map((c) => `${c.id}@${c.version}`)).toEqual(expected);
    }
  });
});

describe('the bound on held cards', () => {
  it('keeps every open card and only the newest closed ones, however many arrive', () => {
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    let cards = mergeCards(
      [],
      Array.from({ length: 50 }, (_, i) => card(`open-${i}`, 1, at(i))),
    );
    for (let i = 0; i < MAX_CLOSED_CARDS + 300; i++) {
      cards = mergeCard(
        cards,
        card(`closed-${i}`, 3, at(100 + i), { status: i % 2 ? 'resolved' : 'cancelled' }),
      ).cards;
    }
    expect(cards.filter((c) => c.status === 'open')).toHaveLength(50);
    const closed = cards.filter((c) => c.status !== 'open');
    expect(closed).toHaveLength(MAX_CLOSED_CARDS);
    expect(closed[0]?.id).toBe(`closed-${MAX_CLOSED_CARDS + 299}`);
    expect(closed.at(-1)?.id).toBe('closed-300');
  });
});
