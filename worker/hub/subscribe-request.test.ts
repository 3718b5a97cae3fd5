import { describe, expect, it } from 'vitest';
import { MAX_PAGE_BYTES, parseSubscribeRequest } from './subscribe-request';

const upgrade = (query: string, headers: Record<string, string> = { upgrade: 'websocket' }) =>
  new Request(`https://hub/subscribe?${query}`, { headers });

describe('parseSubscribeRequest', () => {
  it('reads every parameter the Worker sends', () => {
    expect(
      parseSubscribeRequest(upgrade('topic=t&after=7&page=2048&user=u&name=Ann&max_per_user=3')),
    ).toEqual({ topic: 't', after: 7, pageBytes: 2048, userId: 'u', name: 'Ann', maxPerUser: 3 });
  });

  it('starts live, with the default page and no cap, when only the topic is sent', () => {
    expect(parseSubscribeRequest(upgrade('topic=t'))).toEqual({
      topic: 't',
      after: undefined,
      pageBytes: 256 * 1024,
      userId: null,
      name: null,
      maxPerUser: Number.POSITIVE_INFINITY,
    });
  });

  it.each([
    ['1', 1024],
    [String(10 * MAX_PAGE_BYTES), MAX_PAGE_BYTES],
  ])('keeps a page of %s bytes within bounds (%i)', (page, bytes) => {
    expect(parseSubscribeRequest(upgrade(`topic=t&page=${page}`))).toMatchObject({ pageBytes: bytes });
  });

  it.each([
    ['not an upgrade', upgrade('topic=t', {}), 426],
    ['no topic', upgrade('after=1'), 400],
    ['a non-numeric after', upgrade('topic=t&after=-1'), 400],
    ['a non-numeric page', upgrade('topic=t&page=1e3'), 400],
  ])('refuses %s', (_, request, status) => {
    const answer = parseSubscribeRequest(request);
    expect(answer).toBeInstanceOf(Response);
    expect((answer as Response).status).toBe(status);
  });
});
