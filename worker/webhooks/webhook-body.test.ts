import { describe, expect, it } from 'vitest';
import { type EventData, EventDataMemo } from './webhook-body';

const data = (value: unknown): EventData => ({ kind: 'data', data: value });

describe('the memo of events’ data', () => {
  it('reads once for callers side by side and after', async () => {
    const memo = new EventDataMemo();
    let reads = 0;
    const read = async () => {
      reads++;
      return data({ n: reads });
    };
    const [a, b] = await Promise.all([memo.get('msg_1', read), memo.get('msg_1', read)]);
    expect(await memo.get('msg_1', read)).toEqual(a);
    expect(b).toEqual(a);
    expect(reads).toBe(1);
    await memo.get('msg_2', read);
    expect(reads).toBe(2);
  });

  it('keeps neither a wait nor a failure: the next look reads again', async () => {
    const memo = new EventDataMemo();
    expect(await memo.get('msg_1', async () => ({ kind: 'wait' }))).toEqual({ kind: 'wait' });
    await expect(memo.get('msg_2', async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(memo.size).toBe(0);
    expect(await memo.get('msg_1', async () => data(1))).toEqual(data(1));
    expect(memo.size).toBe(1);
  });

  it('is bounded by count and by size, the oldest going first', async () => {
    const memo = new EventDataMemo(2, 100);
    for (const key of ['a', 'b', 'c']) await memo.get(key, async () => data(key));
    expect(memo.size).toBe(2);
    let reads = 0;
    await memo.get('a', async () => {
      reads++;
      return data('a');
    });
    expect(reads).toBe(1);
    // One larger than the whole bound is not kept at all.
    await memo.get('big', async () => data('x'.repeat(200)));
    expect(memo.size).toBe(0);
  });
});
