// The deployed bundle's size: what `wrangler deploy` would upload, gzipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Bench, Suite } from './lib/bench';
import { buildBundle, root } from './lib/runtime';

export const bundleSuite: Suite = {
  name: 'bundle',
  async run(_b: Bench) {
    const out = resolve(root, '.data/bench/bundle-size');
    const { log } = buildBundle(out);
    const total = /Total Upload: ([^\n]+)/.exec(log)?.[1]?.trim() ?? 'n/a';
    const files: Buffer[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = resolve(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.js')) files.push(readFileSync(p));
      }
    };
    walk(out);
    const all = Buffer.concat(files);
    const gzip = gzipSync(all, { level: 9 }).length;
    const limit = 3 * 2 ** 20;
    return {
      rows: [
        {
          comparison: 'Deployed bundle (wrangler deploy --dry-run, JS, gzip -9)',
          switchboard: `${(gzip / 1024).toFixed(1)} KiB gzip (${(all.length / 1024).toFixed(0)} KiB raw)`,
          peer: '—',
          ratio: '—',
          target: '≤ 3 MiB gzip (Workers Free plan)',
          result: gzip <= limit ? 'met' : 'missed',
        },
      ],
      section: `## Bundle

\`wrangler deploy --dry-run --outdir\`: ${(all.length / 1024).toFixed(0)} KiB of JavaScript, ${(gzip / 1024).toFixed(1)} KiB gzip -9
(wrangler's own figure: ${total}).
`,
    };
  },
};
