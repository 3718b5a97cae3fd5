import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Reads `.dev.vars` (KEY=value lines), creating it with a fresh JWT_SECRET when missing. */
export function ensureDevVars(path = '.dev.vars'): Record<string, string> {
  if (!existsSync(path)) {
    writeFileSync(
      path,
      [
        '# Local secrets for `npm run dev` (git-ignored). Created by scripts/dev.ts.',
        `JWT_SECRET=${randomBytes(32).toString('hex')}`,
        'DEV_MODE=true',
        '',
      ].join('\n'),
    );
  }
  return parseDevVars(readFileSync(path, 'utf8'));
}

export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1]) vars[m[1]] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return vars;
}
