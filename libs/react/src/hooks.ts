/**
 * Hooks over the provider's client. Each subscribes in an effect and unsubscribes in its cleanup,
 * so StrictMode's double mount leaves exactly one live handler (the client sends one `sub`: its
 * subscriptions are state, synced once per task). Message lists are bounded by `limit`.
 * @module
 */
import type { ConnectionState, HeraldMessage, SubscribeResult } from '@herald/client';
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useHerald } from './provider.js';

/** Default number of messages a hook keeps. */
export const DEFAULT_LIMIT = 100;

export interface MessageListOptions<T> {
  /** Keep at most this many messages, the newest last. Default 100; 0 keeps none (use `onMessage`). */
  readonly limit?: number;
  /** Called once per message (the latest function given is used). */
  readonly onMessage?: (message: HeraldMessage<T>) => void;
}

export interface TopicOptions<T> extends MessageListOptions<T> {
  /** False: do not subscribe (yet). Default true. */
  readonly enabled?: boolean;
  /** Start with the topic's newest `rewind` retained messages (WebSocket; see the client's `subscribe`). Default 0. */
  readonly rewind?: number;
}

export interface TopicState<T> {
  /** The messages received since the subscription started, oldest first, at most `limit`. */
  readonly messages: readonly HeraldMessage<T>[];
  /** The newest message, or undefined. */
  readonly last: HeraldMessage<T> | undefined;
  /** The gateway's answer for the topic (`{ ok: true }`, or `{ ok: false, code }`), undefined until then. */
  readonly result: SubscribeResult | undefined;
}

function useMessageList<T>(options: MessageListOptions<T>): [readonly HeraldMessage<T>[], (m: HeraldMessage<T>) => void, () => void] {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const [messages, setMessages] = useState<readonly HeraldMessage<T>[]>([]);
  const onMessage = useRef(options.onMessage);
  onMessage.current = options.onMessage;
  const push = useCallback(
    (m: HeraldMessage<T>) => {
      if (limit > 0) setMessages((prev) => (prev.length >= limit ? [...prev.slice(prev.length - limit + 1), m] : [...prev, m]));
      onMessage.current?.(m);
    },
    [limit],
  );
  const reset = useCallback(() => setMessages([]), []);
  return [messages, push, reset];
}

/**
 * Subscribes to a topic while the component is mounted (and `enabled`).
 * @example
 * const { messages, result } = useTopic<Order>('orders.eu', { limit: 20 });
 */
export function useTopic<T = unknown>(topic: string, options: TopicOptions<T> = {}): TopicState<T> {
  const client = useHerald();
  const [messages, push, reset] = useMessageList(options);
  const [result, setResult] = useState<SubscribeResult | undefined>(undefined);
  const enabled = options.enabled ?? true;
  const rewind = options.rewind ?? 0;
  useEffect(() => {
    if (!enabled) return;
    let active = true;
    const sub = client.subscribe(topic, (m) => push(m as HeraldMessage<T>), { rewind });
    sub.ready.then((r) => active && setResult(r), () => undefined);
    return () => {
      active = false;
      sub.unsubscribe();
      reset();
      setResult(undefined);
    };
  }, [client, topic, enabled, rewind, push, reset]);
  return { messages, last: messages[messages.length - 1], result };
}

/**
 * The messages of the personal channel `user:<sub>` (no subscription needed).
 * @example
 * const { last } = useUser<Notification>({ onMessage: (m) => toast(m.data) });
 */
export function useUser<T = unknown>(options: MessageListOptions<T> = {}): Omit<TopicState<T>, 'result'> {
  const client = useHerald();
  const [messages, push] = useMessageList(options);
  useEffect(() => client.on('user', (m) => push(m as HeraldMessage<T>)), [client, push]);
  return { messages, last: messages[messages.length - 1] };
}

/**
 * The client's connection state, re-rendering on each change.
 * @example
 * const state = useConnectionState(); // 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed'
 */
export function useConnectionState(): ConnectionState {
  const client = useHerald();
  const subscribe = useCallback((onChange: () => void) => client.on('state', onChange), [client]);
  return useSyncExternalStore(subscribe, () => client.state, () => client.state);
}
