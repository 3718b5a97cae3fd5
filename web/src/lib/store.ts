import { useEffect, useState } from 'preact/hooks';

/** A value that components can watch: the few pieces of state shared across screens. */
export class Store<T> {
  private listeners = new Set<(value: T) => void>();
  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(value: T) {
    if (Object.is(value, this.value)) return;
    this.value = value;
    for (const l of this.listeners) l(value);
  }

  update(fn: (value: T) => T) {
    this.set(fn(this.value));
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.get());
  useEffect(() => {
    setValue(store.get());
    return store.subscribe(setValue);
  }, [store]);
  return value;
}
