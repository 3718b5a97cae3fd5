// npm run seed [-- --account UUID] [--tz Area/City]
// Seeds the demo account (or another) with a week of history, through a running `npm run dev`
// (PORT, default 8787): the seed runs inside the Worker, by the same code paths as real use.
// Once per account: running it again writes nothing (docs/demo.md).
import { parseArgs } from 'node:util';
import { describeSeed, localTimeZone, requestDemoSeed } from './lib/seed';

const { values } = parseArgs({
  options: { account: { type: 'string' }, tz: { type: 'string' } },
});
const url = process.env.SEED_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
try {
  await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3_000) });
} catch {
  console.error(
    `npm run seed: nothing answers at ${url}; start \`npm run dev\` first (or set PORT or SEED_URL)`,
  );
  process.exit(1);
}
try {
  const answer = await requestDemoSeed(url, {
    ifEmpty: false,
    tz: values.tz ?? localTimeZone(),
    ...(values.account ? { accountId: values.account } : {}),
  });
  console.log(`npm run seed: ${describeSeed(answer)}`);
} catch (err) {
  console.error(`npm run seed: ${(err as Error).message}`);
  process.exit(1);
}
