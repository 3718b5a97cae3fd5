// The queue's keyboard: j and k move between cards, Enter opens the one in focus, p picks it up,
// / goes to the search. Never while the reader types in a field, and never with a modifier (the
// browser's and the screen reader's own shortcuts stay theirs).

export type QueueKey = 'next' | 'previous' | 'open' | 'pick-up' | 'search';

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  target: EventTarget | null;
}

/** Whether keys typed now are text for a field rather than commands. */
export function isTyping(target: EventTarget | null): boolean {
  if (!target || typeof target !== 'object') return false;
  const el = target as { tagName?: string; isContentEditable?: boolean; type?: string };
  const tag = (el.tagName ?? '').toUpperCase();
  if (el.isContentEditable) return true;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  // Buttons, checkboxes and radios are inputs too, but nothing is typed into them.
  return tag === 'INPUT' && !['button', 'checkbox', 'radio', 'submit', 'reset'].includes(el.type ?? 'text');
}

/**
 * The command a key press stands for, or null. `onCard`: the focus is on a card itself (Enter on
 * a button or link inside it is that control's, not the queue's).
 */
export function queueKey(e: KeyLike, onCard: boolean): QueueKey | null {
  if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return null;
  switch (e.key) {
    case 'j':
      return 'next';
    case 'k':
      return 'previous';
    case 'p':
      return 'pick-up';
    case '/':
      return 'search';
    case 'Enter':
      return onCard ? 'open' : null;
    default:
      return null;
  }
}

/** The card to move to: the first when none is chosen, never past either end. */
export function moveSelection(
  ids: readonly string[],
  current: string | null,
  key: 'next' | 'previous',
): string | null {
  if (ids.length === 0) return null;
  const at = current === null ? -1 : ids.indexOf(current);
  if (at === -1) return key === 'next' ? (ids[0] as string) : (ids.at(-1) as string);
  const next = key === 'next' ? Math.min(at + 1, ids.length - 1) : Math.max(at - 1, 0);
  return ids[next] as string;
}

/**
 * The chosen card once the list changed under it: itself while it is listed, else the card that
 * took its place (the next one still listed after it, else the one before, else the card now at
 * its position), so that a card leaving (picked up elsewhere, a list read again) leaves the
 * keyboard where it was rather than back at the first card. Null when nothing is left.
 */
export function selectionAfter(
  before: readonly string[],
  after: readonly string[],
  current: string | null,
): string | null {
  if (current === null || after.includes(current)) return current;
  const listed = new Set(after);
  const at = before.indexOf(current);
  if (at === -1) return null;
  const following = before.slice(at + 1).find((id) => listed.has(id));
  if (following) return following;
  return (
    before.slice(0, at).findLast((id) => listed.has(id)) ?? after[Math.min(at, after.length - 1)] ?? null
  );
}
