/**
 * The presence state of one key (a user or a topic) as stored cluster-wide, and the pure
 * transitions on it. The stores (KV, memory) apply these under compare-and-set, so whichever
 * writer's CAS succeeds decides the transition, and a transition happens once.
 * @module
 */
import type { AnyEvent } from './event.js';

/** What one key's presence entry holds. */
export interface PresenceValue {
  /** Live connections (users) or subscribers (topics) per tracker incarnation. */
  readonly nodes: Readonly<Record<string, number>>;
  /** True between the `online`/`occupied` event and the `offline`/`vacated` one. */
  readonly on: boolean;
  /** ms since the Unix epoch when the count fell to 0 while `on` (the grace runs from here). */
  readonly gone?: number;
  /**
   * The event of the transition this write made, kept until it is known to be on the events
   * stream (an outbox): any later writer publishes it again before writing (deduplicated by id).
   */
  readonly ev?: AnyEvent;
}

export type TransitionKind = 'up' | 'down';

/** The result of a transition: the next value and whether the key went up or down. */
export interface Transition {
  readonly next: PresenceValue;
  readonly kind?: TransitionKind;
}

export function total(value: PresenceValue | undefined): number {
  if (!value) return 0;
  let n = 0;
  for (const c of Object.values(value.nodes)) n += c;
  return n;
}

/**
 * Sets one incarnation's count (the tracker's local count is the truth for its own entry).
 * `undefined` when nothing changes (no write needed).
 */
export function syncCount(value: PresenceValue | undefined, node: string, count: number, nowMs: number): Transition | undefined {
  const held = value?.nodes[node] ?? 0;
  if (held === count && (value !== undefined || count === 0)) return undefined;
  const nodes: Record<string, number> = { ...(value?.nodes ?? {}) };
  if (count > 0) nodes[node] = count;
  else delete nodes[node];
  return settle(value, nodes, nowMs, false);
}

/**
 * Removes the counts of dead incarnations and ends an expired grace. A dead node's last sign
 * of life is already older than the grace, so its users with no other connection go down at once.
 * `undefined` when nothing changes.
 */
export function expire(value: PresenceValue | undefined, isDead: (node: string) => boolean, nowMs: number, graceMs: number): Transition | undefined {
  if (!value) return undefined;
  const nodes: Record<string, number> = {};
  let removed = false;
  for (const [node, count] of Object.entries(value.nodes)) {
    if (isDead(node)) removed = true;
    else nodes[node] = count;
  }
  const sum = Object.values(nodes).reduce((a, b) => a + b, 0);
  const graceOver = value.gone !== undefined && nowMs - value.gone >= graceMs;
  if (!removed && !(sum === 0 && value.on && graceOver)) return undefined;
  return settle(value, nodes, nowMs, true);
}

/** The next value for `nodes`; `downNow` ends the grace at once when the count is 0. */
function settle(value: PresenceValue | undefined, nodes: Record<string, number>, nowMs: number, downNow: boolean): Transition {
  const sum = Object.values(nodes).reduce((a, b) => a + b, 0);
  const on = value?.on ?? false;
  if (sum > 0) return on ? { next: { nodes, on } } : { next: { nodes, on: true }, kind: 'up' };
  if (!on) return { next: { nodes, on: false } };
  if (downNow) return { next: { nodes, on: false }, kind: 'down' };
  return { next: { nodes, on: true, gone: value?.gone ?? nowMs } };
}

/** Incarnations named in a value. */
export function nodesOf(value: PresenceValue | undefined): string[] {
  return value ? Object.keys(value.nodes) : [];
}

/** Parses a stored value; `undefined` for anything malformed (treated as absent, then overwritten). */
export function decodeValue(bytes: Uint8Array): PresenceValue | undefined {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o['on'] !== 'boolean' || typeof o['nodes'] !== 'object' || o['nodes'] === null) return undefined;
    const nodes: Record<string, number> = {};
    for (const [k, c] of Object.entries(o['nodes'] as Record<string, unknown>)) {
      if (typeof c === 'number' && Number.isInteger(c) && c > 0) nodes[k] = c;
    }
    const gone = typeof o['gone'] === 'number' ? o['gone'] : undefined;
    const ev = typeof o['ev'] === 'object' && o['ev'] !== null ? (o['ev'] as AnyEvent) : undefined;
    return { nodes, on: o['on'], ...(gone === undefined ? {} : { gone }), ...(ev === undefined ? {} : { ev }) };
  } catch {
    return undefined;
  }
}

export function encodeValue(value: PresenceValue): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
