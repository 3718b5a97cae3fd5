// Adds lock entries for platform-specific optional packages that this network's npm registry
// does not serve (other OSes' builds of workerd, biome, esbuild…). `npm install` silently leaves
// them out of package-lock.json, and `npm ci` then refuses the lock as out of sync. An entry with
// its os/cpu lets npm ci skip the package on this platform without fetching it.
// Run after `npm install` changes the lock: node scripts/fix-lock.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const platform = (name) => {
  const s = name.split('/').pop();
  const os = [
    'darwin',
    'linux',
    'win32',
    'android',
    'freebsd',
    'openbsd',
    'netbsd',
    'sunos',
    'aix',
    'openharmony',
  ].find((o) => s.includes(o) || (o === 'win32' && /windows|win32/.test(s)));
  const cpu = [
    'arm64',
    'x64',
    'ia32',
    'arm',
    'loong64',
    'mips64el',
    'ppc64',
    'riscv64',
    's390x',
    'wasm32',
  ].find((c) => new RegExp(`(^|-)${c}($|-)`).test(s));
  return { os, cpu };
};

// Where node would find `name` from the package at `from` (nested node_modules, then upwards).
function resolveFrom(from, name) {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
    if (pkgs[candidate]) return candidate;
    if (!dir) return undefined;
    const idx = dir.lastIndexOf('/node_modules/');
    dir = idx === -1 ? '' : dir.slice(0, idx);
  }
}

let added = 0;
for (const [path, entry] of Object.entries(pkgs)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolveFrom(path, name)) continue;
    const { os, cpu } = platform(name);
    if (!os) continue;
    const target = `${path ? `${path}/` : ''}node_modules/${name}`;
    pkgs[target] = {
      version,
      optional: true,
      ...(entry.dev ? { dev: true } : {}),
      os: [os],
      ...(cpu ? { cpu: [cpu] } : {}),
    };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: added ${added} platform entries`);
