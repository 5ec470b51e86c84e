/**
 * Local fixes to the pinned build's type definitions: `app.close()` exists at
 * runtime but is not declared, and `closeOnBackpressureLimit` is a boolean in
 * practice. Re-exports the types the services use, so they import from one place.
 * @module
 */
import type { TemplatedApp, WebSocketBehavior, HttpResponse, HttpRequest, WebSocket, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';

/** TemplatedApp with the `close()` the runtime has (closes every socket and listener). */
export type App = TemplatedApp & { close(): void };

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
