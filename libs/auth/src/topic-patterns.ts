/** Topic patterns of the JWT `topics` claim (docs/protocol.md#jwt-claims): `news`, `orders.*`, `orders.>`, `>`. */
import { MAX_TOPIC_CHARS, MAX_TOPIC_SEGMENTS, isValidTopic } from '@herald/protocol';

/** At most this many entries of a token's `topics` claim are read; the rest are ignored. */
export const MAX_TOPIC_PATTERNS = 100;

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** Decides which topics a connection may subscribe to. Built once per token, asked on every `sub`. */
export interface TopicMatcher {
  /** True when `topic` is a valid topic name matched by at least one pattern. */
  allows(topic: string): boolean;
  /** The valid patterns retained, deduplicated, in claim order. */
  readonly patterns: readonly string[];
}

/**
 * True when `pattern` is a valid topic pattern: segments of `[A-Za-z0-9_-]{1,64}`, `*` (exactly one
 * segment, any position) or a final `>` (one or more segments); a bare `>` matches every topic.
 * Patterns longer than a topic may be, or with more segments, could never match and are invalid.
 */
export function isValidTopicPattern(pattern: unknown): pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_TOPIC_CHARS) return false;
  const segments = pattern.split('.');
  if (segments.length > MAX_TOPIC_SEGMENTS) return false;
  const last = segments.length - 1;
  return segments.every((s, i) => s === '*' || (s === '>' && i === last) || SEGMENT.test(s));
}

/** Matchers kept for reuse, keyed by their claim; the oldest goes when full. */
const SHARED_MAX = 1024;
/** Claims longer than this (as JSON) are compiled each time instead of kept. */
const SHARED_KEY_MAX_CHARS = 2048;
const shared = new Map<string, TopicMatcher>();

/**
 * Compiles patterns into a matcher. Invalid patterns are ignored (a token with one bad pattern keeps
 * the others); an empty list allows nothing. Exact patterns go into a Set; wildcard ones into a trie
 * of segments, so `allows` costs one Set lookup plus at most a walk of the topic's segments.
 * A matcher never changes once built, so connections whose tokens carry the same claim share one
 * (most tokens of an application carry one of a few claims: a node with 100,000 connections would
 * otherwise hold 100,000 copies, a Set each); at most 1,024 claims are kept, short ones only.
 * @example compileTopicPatterns(['news', 'orders.*']).allows('orders.42') // true
 */
export function compileTopicPatterns(patterns: readonly string[]): TopicMatcher {
  const key = JSON.stringify(patterns);
  if (key.length > SHARED_KEY_MAX_CHARS) return new CompiledTopicMatcher(patterns);
  let m = shared.get(key);
  if (m === undefined) {
    m = new CompiledTopicMatcher(patterns);
    if (shared.size >= SHARED_MAX) shared.delete(shared.keys().next().value as string);
    shared.set(key, m);
  }
  return m;
}

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  star: TrieNode | undefined;
  /** A `>` ends here: one or more further segments match. */
  tail: boolean;
  /** A pattern ends exactly here. */
  end: boolean;
}

function newNode(): TrieNode {
  return { children: new Map(), star: undefined, tail: false, end: false };
}

class CompiledTopicMatcher implements TopicMatcher {
  readonly patterns: readonly string[];
  readonly #exact = new Set<string>();
  readonly #root: TrieNode | undefined;

  constructor(patterns: readonly string[]) {
    const kept = new Set<string>();
    let root: TrieNode | undefined;
    for (const pattern of patterns) {
      if (kept.has(pattern) || !isValidTopicPattern(pattern)) continue;
      kept.add(pattern);
      if (!pattern.includes('*') && !pattern.includes('>')) {
        this.#exact.add(pattern);
        continue;
      }
      root ??= newNode();
      insert(root, pattern.split('.'));
    }
    this.#root = root;
    this.patterns = Object.freeze([...kept]);
  }

  allows(topic: string): boolean {
    if (this.#exact.has(topic)) return true; // only valid topics are in the Set
    if (this.#root === undefined || !isValidTopic(topic)) return false;
    return matches(this.#root, topic.split('.'), 0);
  }
}

function insert(root: TrieNode, segments: readonly string[]): void {
  let node = root;
  for (const s of segments) {
    if (s === '>') {
      node.tail = true;
      return;
    }
    if (s === '*') {
      node.star ??= newNode();
      node = node.star;
      continue;
    }
    let child = node.children.get(s);
    if (child === undefined) {
      child = newNode();
      node.children.set(s, child);
    }
    node = child;
  }
  node.end = true;
}

/** At most 8 segments deep and two branches per level (literal, `*`): bounded work. */
function matches(node: TrieNode, segments: readonly string[], i: number): boolean {
  const segment = segments[i];
  if (segment === undefined) return node.end;
  if (node.tail) return true;
  const child = node.children.get(segment);
  if (child !== undefined && matches(child, segments, i + 1)) return true;
  return node.star !== undefined && matches(node.star, segments, i + 1);
}
