/**
 * Local fixes to the type definitions (typed from the 20.57 build, which both pinned builds
 * match at this surface): `listen(host, port, options, cb)`, and `closeOnBackpressureLimit` as the boolean
 * uWS reads. Re-exports the types the services use, so they import from one place.
 * @module
 */
import type { TemplatedApp, WebSocketBehavior, HttpResponse, HttpRequest, WebSocket, us_listen_socket, us_socket_context_t } from 'uws-20-57';

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT: without it Linux's SO_REUSEPORT lets a second process share the port silently. */
export const LISTEN_EXCLUSIVE_PORT = 1;

/**
 * TemplatedApp with what the runtime has and the declarations lack: `close()` (closes
 * every socket and listener) and `listen(host, port, options, cb)`.
 */
export type App = TemplatedApp & {
  close(): void;
  listen(host: string, port: number, options: number, cb: (listenSocket: us_listen_socket | false) => void): TemplatedApp;
};

/** WebSocketBehavior whose `closeOnBackpressureLimit` takes the boolean uWS reads. */
export type Behavior<T> = Omit<WebSocketBehavior<T>, 'closeOnBackpressureLimit'> & { closeOnBackpressureLimit?: boolean };

export function asApp(app: TemplatedApp): App {
  return app as App;
}

/** Narrows our Behavior back to the declared type for `app.ws()`. */
export function toUwsBehavior<T>(behavior: Behavior<T>): WebSocketBehavior<T> {
  return behavior as unknown as WebSocketBehavior<T>;
}

export type { TemplatedApp, WebSocketBehavior, HttpResponse, HttpRequest, WebSocket, us_listen_socket, us_socket_context_t };
