import { describe, expect, it } from 'vitest';
import { createFakeProvider, fakeCompletion, fnv1a32 } from './fake-provider';
import { LlmError } from './llm-provider';

describe('fake provider', () => {
  it('is deterministic per prompt and system', async () => {
    const llm = createFakeProvider();
    const a = await llm.complete({ prompt: 'Help with vpn' });
    const b = await createFakeProvider().complete({ prompt: 'Help with vpn' });
    const c = await llm.complete({ prompt: 'Help with dns' });
    const d = await llm.complete({ prompt: 'Help with vpn', system: 'be brief' });
    expect(a).toEqual(b);
    expect(a.text).toMatch(/^\[fake\] [0-9a-f]{8} Help with vpn$/);
    expect(a.model).toBe('fake-1');
    expect(c.text).not.toBe(a.text);
    expect(d.text).not.toBe(a.text);
    expect(llm.name).toBe('fake');
  });

  it('summarises long prompts', () => {
    const text = fakeCompletion({ prompt: `${'word '.repeat(100)}` });
    expect(text.length).toBeLessThan(110);
    expect(text.endsWith('…')).toBe(true);
  });

  it('hashes with FNV-1a', () => {
    expect(fnv1a32('')).toBe('811c9dc5');
    expect(fnv1a32('a')).toBe('e40c292c');
  });

  it('can answer with a custom responder', async () => {
    const llm = createFakeProvider({ respond: (req) => req.prompt.toUpperCase() });
    expect((await llm.complete({ prompt: 'hi' })).text).toBe('HI');
  });

  it('honours abort during its delay', async () => {
    const llm = createFakeProvider({ delayMs: 10_000 });
    const controller = new AbortController();
    const pending = llm.complete({ prompt: 'slow', signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect((err as LlmError).code).toBe('aborted');
  });

  it('refuses an already-aborted signal', async () => {
    await expect(
      createFakeProvider().complete({ prompt: 'x', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: 'aborted',
    });
  });

  it('answers after its delay', async () => {
    const llm = createFakeProvider({ delayMs: 5 });
    expect((await llm.complete({ prompt: 'ok' })).text).toContain('ok');
  });
});

describe('fake provider directives', () => {
  it('fails on [[fake:fail]] with a non-retryable error', async () => {
    const p = createFakeProvider();
    await expect(p.complete({ prompt: 'x [[fake:fail]]' })).rejects.toMatchObject({
      code: 'bad_request',
      retryable: false,
    });
  });

  it('waits on [[fake:delay=N]] and can be aborted meanwhile', async () => {
    const p = createFakeProvider();
    const ctl = new AbortController();
    const pending = p.complete({ prompt: '[[fake:delay=5000]] slow', signal: ctl.signal });
    ctl.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    await expect(p.complete({ prompt: '[[fake:delay=1]] quick' })).resolves.toMatchObject({
      model: 'fake-1',
    });
  });
});
