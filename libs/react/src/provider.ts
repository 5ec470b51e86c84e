/**
 * HeraldProvider: puts one HeraldClient in context. Given `options`, the provider owns the client:
 * it creates it once, connects it on mount and closes it on unmount. The close is deferred by a
 * task so that StrictMode's mount → unmount → mount (and any quick remount) keeps the same client
 * and its one connection. Given `client`, the application owns it and the provider only shares it.
 * @module
 */
import { HeraldClient, type HeraldClientOptions } from '@herald/client';
import { createContext, createElement, useContext, useEffect, useState, type ReactNode } from 'react';

const HeraldContext = createContext<HeraldClient | undefined>(undefined);

export type HeraldProviderProps =
  | {
      /** The provider creates the client from these options on first render (later changes are ignored), connects it, and closes it on unmount. */
      readonly options: HeraldClientOptions;
      readonly client?: never;
      readonly children?: ReactNode;
    }
  | {
      /** A client the application created and manages (connect, close): shared as it is. */
      readonly client: HeraldClient;
      readonly options?: never;
      readonly children?: ReactNode;
    };

/** Owned clients waiting for their deferred close; a remount within the same task cancels it. */
const pendingClose = new WeakMap<HeraldClient, ReturnType<typeof setTimeout>>();

/**
 * @example
 * createElement(HeraldProvider, { options: { url: 'https://push.example.com', getToken } }, createElement(App))
 */
export function HeraldProvider(props: HeraldProviderProps): ReactNode {
  // The constructor has no side effect (no socket until connect()), so a render that StrictMode
  // throws away costs nothing; useState keeps one instance for the component's life.
  const [owned] = useState(() => (props.client === undefined ? new HeraldClient(props.options) : undefined));
  const client = props.client ?? owned;
  if (client === undefined) throw new TypeError('HeraldProvider needs options or client');
  useEffect(() => {
    if (owned === undefined) return;
    clearTimeout(pendingClose.get(owned));
    pendingClose.delete(owned);
    if (owned.state === 'disconnected') owned.connect();
    return () => {
      pendingClose.set(
        owned,
        setTimeout(() => {
          pendingClose.delete(owned);
          owned.close();
        }, 0),
      );
    };
  }, [owned]);
  return createElement(HeraldContext.Provider, { value: client }, props.children);
}

/** The client of the nearest HeraldProvider. Throws outside one. */
export function useHerald(): HeraldClient {
  const client = useContext(HeraldContext);
  if (client === undefined) throw new Error('useHerald() and the Herald hooks need a <HeraldProvider> above them');
  return client;
}
