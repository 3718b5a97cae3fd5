import { describe, expect, it } from 'vitest';
import { createFakeProvider, fakeCompletion } from './fake-provider';
import { LlmError } from './llm-provider';

describe('fake provider', () => {
  it('is deterministic per prompt and system', async () => {
    const llm = createFakeProvider();
    const a = await llm.complete({ prompt: 'Help with vpn' });
    const b = await createFakeProvider().complete({ prompt: 'Help with vpn' });
    const c = await llm.complete({ prompt: 'Help with dns' });
    const d = await llm.complete({ prompt: 'Help with vpn', system: 'be brief' });
    expect(a).toEqual(b);
    expect(a.text).toBe(
      '[fake] No language model is configured (LLM_PROVIDER=fake), so this stands in for its answer. Asked: “Help with vpn”.',
    );
    expect(a.model).toBe('fake-1');
    expect(c.text).not.toBe(a.text);
    expect(d.text).not.toBe(a.text);
    expect(llm.name).toBe('fake');
  });

  it('reads as a labelled stand-in: quotes what it was asked and told, cut short, without directives', () => {
    const text = fakeCompletion({ prompt: `${'word '.repeat(100)} [[fake:delay=5]]`, system: 'Be  brief' });
    expect(text).toMatch(/^\[fake\] No language model is configured/);
    expect(text).toContain('Instructions: “Be brief”.');
    expect(text).toMatch(/Asked: “(word ){20,}.*…”\.$/);
    expect(text).not.toContain('[[fake:');
    expect(text).not.toMatch(/[0-9a-f]{8}/);
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

  it('streams its words with a pause between them, abortably', async () => {
    const p = createFakeProvider({ wordDelayMs: 1 });
    const pieces: string[] = [];
    const out = await p.complete({ prompt: 'tell me about the vpn', onDelta: (t) => pieces.push(t) });
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe(out.text);
    const ctl = new AbortController();
    const slow = createFakeProvider({ wordDelayMs: 10_000 });
    const seen: string[] = [];
    const pending = slow.complete({
      prompt: 'slow words here',
      signal: ctl.signal,
      onDelta: (t) => seen.push(t),
    });
    await new Promise((r) => setTimeout(r, 5));
    ctl.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(seen).toHaveLength(1);
  });

  it('counts tokens as words', async () => {
    const out = await createFakeProvider().complete({ prompt: 'three words here', system: 'be kind' });
    expect(out.usage).toEqual({
      prompt_tokens: 5,
      completion_tokens: out.text.split(/\s+/).filter(Boolean).length,
    });
  });

  it('drops the first calls of a prompt on [[fake:flaky=N]], a stream halfway', async () => {
    const p = createFakeProvider({ wordDelayMs: 0 });
    const prompt = `flaky ${crypto.randomUUID()} [[fake:flaky=2]] a b c d e f`;
    for (let i = 0; i < 2; i++) {
      const pieces: string[] = [];
      await expect(p.complete({ prompt, onDelta: (t) => pieces.push(t) })).rejects.toMatchObject({
        code: 'provider_error',
        retryable: true,
      });
      expect(pieces.length).toBeGreaterThan(0);
    }
    await expect(p.complete({ prompt })).resolves.toMatchObject({ model: 'fake-1' });
  });

  it('is rate limited with Retry-After on [[fake:rate_limit=N:MS]]', async () => {
    const p = createFakeProvider();
    const prompt = `limited ${crypto.randomUUID()} [[fake:rate_limit=1:2500]]`;
    await expect(p.complete({ prompt })).rejects.toMatchObject({
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 2500,
    });
    await expect(p.complete({ prompt })).resolves.toMatchObject({ model: 'fake-1' });
  });
});
