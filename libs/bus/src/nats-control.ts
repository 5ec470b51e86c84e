/**
 * Control requests across gateway nodes on core NATS: `<prefix>.ctl.disconnect` and
 * `<prefix>.ctl.presence`. Every node answers `{node, count}`; the asker sums the answers.
 * Presence members (members.ts): announcements on `<prefix>.prs.<base64url(topic)>`, queries on
 * `<prefix>.ctl.members` answered by every node holding members of the topic.
 * @module
 */
import { NoRespondersError, RequestError, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from '@herald/telemetry';
import type { ControlHandlers, PresenceQuery } from './bus.js';
import { BusError } from './errors.js';
import { parseMemberState, type MemberPlane, type MemberState } from './members.js';
import { DEFAULT_SUBJECTS, encodeToken, type SubjectScheme } from './subjects.js';

/** Longest wait for answers, in ms: a node that answers later is not counted. */
export const CONTROL_MAX_WAIT_MS = 500;
/** After the last answer, stop waiting once no other arrives within this many ms. */
export const CONTROL_STALL_MS = 100;

export type ControlRequest =
  | { readonly kind: 'disconnect'; readonly body: { user: string; code: number; reason: string } }
  | { readonly kind: 'presence'; readonly body: PresenceQuery };

/** One connection's control side: the nodes it serves, and asking every node. */
export class NatsControl implements MemberPlane {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  readonly #subjects: SubjectScheme;
  /** Nodes served on this connection (one in production; tests may register several). */
  readonly #nodes = new Map<string, ControlHandlers>();
  #subs: Subscription[] | undefined;

  constructor(nc: NatsConnection, timeoutMs: number, log?: Logger, subjects: SubjectScheme = DEFAULT_SUBJECTS) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
    this.#subjects = subjects;
  }

  /** Registers (or replaces) a node's handlers; resolves once the server has the subscriptions. */
  async serve(nodeId: string, handlers: ControlHandlers): Promise<void> {
    this.#nodes.set(nodeId, handlers);
    if (this.#subs) return;
    this.#subs = [
      this.#nc.subscribe(this.#subjects.ctlDisconnect, { callback: (err, msg) => void (err || this.#answer(msg, 'disconnect')) }),
      this.#nc.subscribe(this.#subjects.ctlPresence, { callback: (err, msg) => void (err || this.#answer(msg, 'presence')) }),
      this.#nc.subscribe(this.#membersSubject, { callback: (err, msg) => void (err || this.#answerMembers(msg)) }),
    ];
    try {
      await withTimeout(this.#nc.flush(), this.#timeoutMs);
    } catch (err) {
      throw new BusError('unavailable', 'cannot register control subscriptions', { cause: err });
    }
  }

  #answer(msg: Msg, kind: ControlRequest['kind']): void {
    let body: unknown;
    try {
      body = JSON.parse(msg.string());
    } catch (err) {
      this.#log?.warn({ err, kind }, 'ignoring malformed control request');
      return;
    }
    for (const [node, handlers] of this.#nodes) {
      let count = 0;
      try {
        count = kind === 'disconnect' ? askDisconnect(handlers, body) : askPresence(handlers, body);
      } catch (err) {
        this.#log?.error({ err, kind, target: node }, 'control handler threw');
      }
      msg.respond(JSON.stringify({ node, count }));
    }
  }

  get #membersSubject(): string {
    return `${this.#subjects.prefix}.ctl.members`;
  }

  #announceSubject(topic: string): string {
    return `${this.#subjects.prefix}.prs.${encodeToken(topic)}`;
  }

  #answerMembers(msg: Msg): void {
    const topic = msg.string();
    for (const [node, handlers] of this.#nodes) {
      try {
        const state = handlers.members?.(topic);
        if (state) msg.respond(JSON.stringify(state));
      } catch (err) {
        this.#log?.error({ err, target: node }, 'members handler threw');
      }
    }
  }

  announce(state: MemberState): void {
    try {
      this.#nc.publish(this.#announceSubject(state.topic), JSON.stringify(state));
    } catch (err) {
      // Closed or draining connection: the next announcement (or the watchers' timeout) heals it.
      this.#log?.debug({ err }, 'member announcement not sent');
    }
  }

  async watch(topic: string, onState: (state: MemberState) => void): Promise<() => void> {
    const sub = this.#nc.subscribe(this.#announceSubject(topic), {
      callback: (err, msg) => {
        if (err) return;
        const state = parseMemberState(msg.string());
        if (state && state.topic === topic) onState(state);
      },
    });
    await withTimeout(this.#nc.flush(), this.#timeoutMs).catch(() => undefined);
    return () => sub.unsubscribe();
  }

  async query(topic: string): Promise<MemberState[]> {
    const out: MemberState[] = [];
    try {
      const answers = await this.#nc.requestMany(this.#membersSubject, topic, { strategy: 'stall', stall: CONTROL_STALL_MS, maxWait: CONTROL_MAX_WAIT_MS });
      for await (const m of answers) {
        if (m.headers?.code) continue;
        const state = parseMemberState(m.string());
        if (state && state.topic === topic) out.push(state);
      }
    } catch (err) {
      if (isNoResponders(err)) return out;
      throw new BusError('unavailable', 'control request members failed', { cause: err });
    }
    return out;
  }

  /** Asks every node and sums the counts: 0 when no node serves control. */
  async ask<K extends ControlRequest['kind']>(kind: K, body: Extract<ControlRequest, { kind: K }>['body']): Promise<number> {
    const subject = kind === 'disconnect' ? this.#subjects.ctlDisconnect : this.#subjects.ctlPresence;
    let total = 0;
    try {
      const answers = await this.#nc.requestMany(subject, JSON.stringify(body), {
        strategy: 'stall',
        stall: CONTROL_STALL_MS,
        maxWait: CONTROL_MAX_WAIT_MS,
      });
      for await (const m of answers) {
        const count = parseCount(m);
        if (count !== undefined) total += count;
      }
    } catch (err) {
      if (isNoResponders(err)) return total;
      throw new BusError('unavailable', `control request ${kind} failed`, { cause: err });
    }
    return total;
  }
}

function askDisconnect(handlers: ControlHandlers, body: unknown): number {
  if (!isRecord(body) || typeof body['user'] !== 'string' || typeof body['code'] !== 'number') return 0;
  return handlers.disconnect(body['user'], body['code'], typeof body['reason'] === 'string' ? body['reason'] : '');
}

function askPresence(handlers: ControlHandlers, body: unknown): number {
  if (!isRecord(body)) return 0;
  if (typeof body['user'] === 'string') return handlers.presence({ user: body['user'] });
  if (typeof body['topic'] === 'string') return handlers.presence({ topic: body['topic'] });
  return 0;
}

function parseCount(m: Msg): number | undefined {
  if (m.headers?.code) return undefined;
  try {
    const body: unknown = JSON.parse(m.string());
    const count = isRecord(body) ? body['count'] : undefined;
    return typeof count === 'number' && Number.isFinite(count) ? count : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for a request that found no subscriber at all. */
export function isNoResponders(err: unknown): boolean {
  return err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());
}

/** Rejects with BusError('timeout') when `p` takes longer than `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new BusError('timeout', `no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
