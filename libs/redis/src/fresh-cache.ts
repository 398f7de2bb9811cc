/**
 * Values loaded at most once per `freshMs` per key, shared by concurrent callers; a failed load is
 * not kept. Bounded: past `maxEntries` the oldest entry goes (a flood of unknown keys cannot grow it).
 */
export class FreshCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; loadedAt: number }>();

  constructor(
    private readonly freshMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.loadedAt < this.freshMs) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { value, loadedAt: now });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  /** Drops a key, so that the next `get` loads it (after a change this process made itself). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}
