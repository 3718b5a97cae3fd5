// workerd provides `node:async_hooks` under the `nodejs_compat` flag (wrangler.toml), but the
// Worker's type set has no Node types: this declares the one class the Worker uses (lib/log.ts).
declare module 'node:async_hooks' {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, fn: () => R): R;
  }
}
