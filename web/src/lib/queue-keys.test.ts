import { describe, expect, it } from 'vitest';
import { isTyping, moveSelection, queueKey, selectionAfter } from './queue-keys';

const press = (
  key: string,
  target: object | null = { tagName: 'BODY' },
  mods: Partial<Record<'ctrlKey' | 'metaKey' | 'altKey', boolean>> = {},
) => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
  target: target as EventTarget,
});

describe('the queue’s keys', () => {
  it('maps j, k, p, / and Enter on a card', () => {
    expect(queueKey(press('j'), false)).toBe('next');
    expect(queueKey(press('k'), false)).toBe('previous');
    expect(queueKey(press('p'), true)).toBe('pick-up');
    expect(queueKey(press('/'), false)).toBe('search');
    expect(queueKey(press('Enter', { tagName: 'LI' }), true)).toBe('open');
    expect(queueKey(press('Enter', { tagName: 'BUTTON' }), false)).toBeNull();
    expect(queueKey(press('x'), false)).toBeNull();
  });

  it('leaves keys alone while typing in a field or with a modifier', () => {
    for (const target of [
      { tagName: 'INPUT', type: 'search' },
      { tagName: 'INPUT' },
      { tagName: 'TEXTAREA' },
      { tagName: 'SELECT' },
      { tagName: 'DIV', isContentEditable: true },
    ]) {
      expect(isTyping(target as unknown as EventTarget)).toBe(true);
      expect(queueKey(press('j', target), false)).toBeNull();
      expect(queueKey(press('/', target), false)).toBeNull();
    }
    expect(isTyping({ tagName: 'INPUT', type: 'checkbox' } as unknown as EventTarget)).toBe(false);
    expect(queueKey(press('j', undefined, { ctrlKey: true }), false)).toBeNull();
    expect(queueKey(press('k', undefined, { metaKey: true }), false)).toBeNull();
    expect(queueKey(press('p', undefined, { altKey: true }), true)).toBeNull();
  });

  it('moves through the list and stops at its ends', () => {
    const ids = ['a', 'b', 'c'];
    expect(moveSelection(ids, null, 'next')).toBe('a');
    expect(moveSelection(ids, null, 'previous')).toBe('c');
    expect(moveSelection(ids, 'a', 'next')).toBe('b');
    expect(moveSelection(ids, 'c', 'next')).toBe('c');
    expect(moveSelection(ids, 'a', 'previous')).toBe('a');
    expect(moveSelection(ids, 'gone', 'next')).toBe('a');
    expect(moveSelection([], 'a', 'next')).toBeNull();
  });

  it('a chosen card that leaves hands the choice to the card that took its place', () => {
    // Regression: a focused card removed by a live change or a reload sent the focus to the page,
    // and the next j started again from the first card.
    expect(selectionAfter(['a', 'b', 'c'], ['a', 'b', 'c'], 'b')).toBe('b');
    expect(selectionAfter(['a', 'b', 'c'], ['a', 'c'], 'b')).toBe('c');
    expect(selectionAfter(['a', 'b', 'c', 'd'], ['a', 'd'], 'b')).toBe('d');
    expect(selectionAfter(['a', 'b', 'c'], ['x', 'a', 'b'], 'c')).toBe('b');
    expect(selectionAfter(['a', 'b'], ['x'], 'b')).toBe('x');
    // None of its neighbours is left: the card at its place, not the last of a new list.
    expect(selectionAfter(['a', 'b'], ['x', 'y', 'z'], 'a')).toBe('x');
    expect(selectionAfter(['a', 'b'], [], 'b')).toBeNull();
    expect(selectionAfter(['a'], ['a'], null)).toBeNull();
    expect(selectionAfter([], ['a'], 'gone')).toBeNull();
  });
});
