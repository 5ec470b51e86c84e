/**
 * Small lists kept at their exact size and replaced, never changed, on every add or remove:
 * per-connection and per-user lists on a node with 100k connections hold one or two items,
 * and an exact-size array is a fraction of a Set (a Set with one item is about 150 bytes,
 * such an array about 50). Whoever held the old array keeps a stable snapshot.
 * @module
 */

/** The shared empty list. */
export const EMPTY: readonly never[] = Object.freeze([]);

/** `list` with `item` appended (exact size). */
export function withItem<T>(list: readonly T[], item: T): readonly T[] {
  return list.concat(item);
}

/** `list` without the first `item` (exact size), or `list` itself when it does not hold it. */
export function withoutItem<T>(list: readonly T[], item: T): readonly T[] {
  const i = list.indexOf(item);
  if (i < 0) return list;
  return list.length === 1 ? EMPTY : list.slice(0, i).concat(list.slice(i + 1));
}
