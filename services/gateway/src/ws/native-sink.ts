/** The WebSocket's fan-out sink: uWS's native app.publish, which copies the frame to every subscribed socket in C++. */
import type { FanoutSink } from '../hub/fanout.js';

/** The two uWS app calls the sink makes. */
export interface PublishTarget {
  publish(topic: string, message: string, isBinary?: boolean, compress?: boolean): boolean;
  numSubscribers(topic: string): number;
}

export class NativeSink implements FanoutSink {
  readonly #app: PublishTarget;
  readonly #compress: boolean;

  /** `compress`: ask uWS to deflate (only sockets that negotiated permessage-deflate get it compressed). */
  constructor(app: PublishTarget, compress: boolean) {
    this.#app = app;
    this.#compress = compress;
  }

  deliver(channel: string, _seq: number, frame: string): number {
    const n = this.#app.numSubscribers(channel);
    if (n > 0) this.#app.publish(channel, frame, false, this.#compress);
    return n;
  }

  count(channel: string): number {
    return this.#app.numSubscribers(channel);
  }
}
