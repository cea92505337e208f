/** A set that remembers only the last `capacity` keys added, so it stays small in a long stream. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Adds `key`; false when it was already there. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.deleteOldest();
    return true;
  }

  private deleteOldest(): void {
    // A Set iterates in insertion order, so the first key is the oldest.
    const oldest = this.keys.values().next();
    if (!oldest.done) this.keys.delete(oldest.value);
  }
}
