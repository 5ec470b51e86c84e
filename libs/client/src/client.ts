/**
 * HeraldClient: the SDK's state machine (after centrifuge-js). connect → welcome → connected;
 * a lost transport → reconnecting with full-jitter backoff → resubscribe with `since` →
 * connected; the close-code table decides between reconnecting, a new token, asking the
 * application (4003 → disconnected) and stopping. Frames and recovery live in delivery.ts,
 * subscription state in subscriptions.ts, transports in transport-*.ts.
 * @module
 */
import { isValidTopic } from '@herald/protocol';
import { Acks } from './acks.js';
import { SLOW_BACKOFF_STEPS, backoffDelay } from './backoff.js';
import { Commands } from './commands.js';
import { Delivery } from './delivery.js';
import { Emitter } from './emitter.js';
import { isOffline, watchEnvironment } from './environment.js';
import { HeraldError, type HeraldErrorDetails } from './errors.js';
import { settingsOf, type Settings } from './options.js';
import { decide } from './reactions.js';
import type { PresenceExt } from './presence.js';
import { Subscriptions } from './subscriptions.js';
import type { SseKit } from './sse-kit.js';
import { TokenSource } from './token.js';
import type { CloseInfo, InboundFrame, Transport, TransportHandlers } from './transport.js';
import { openWebSocket } from './transport-ws.js';
import type {
  CloseReaction, ConnectionState, HeraldClientEvents, HeraldClientOptions, MessageHandler, SubscribeOptions, Subscription, TransportName,
  WebSocketConstructor,
} from './types.js';

/** Added to 2 × heartbeat before a silent connection is declared dead (PROTOCOL §4). */
const DEAD_GRACE_MS = 5000;

type Timer = ReturnType<typeof setTimeout> | undefined;

/**
 * A connection to a Herald gateway, kept alive across network loss, node restarts,
 * drains and token expiry, with every subscription restored and every gap recovered.
 * @example
 * const client = new HeraldClient({ url: 'https://push.example.com', getToken: () => fetchToken() });
 * client.on('state', (state) => console.log(state));
 * client.subscribe('news', (m) => console.log(m.seq, m.data));
 * client.connect();
 */
export class HeraldClientCore {
  readonly #events = new Emitter<HeraldClientEvents>();
  readonly #subs = new Subscriptions();
  readonly #delivery: Delivery;
  readonly #tokens: TokenSource;
  readonly #acks: Acks;
  readonly #commands: Commands;
  readonly #o: Settings;
  #state: ConnectionState = 'disconnected';
  #transport: Transport | undefined;
  #kind: TransportName;
  #welcomed = false;
  #hadWelcome = false;
  #attempt = 0;
  #gen = 0;
  #retryTimer: Timer;
  #connectTimer: Timer;
  #deadTimer: Timer;
  #drainTimer: Timer;
  #drainAt: number | undefined;
  #heardAt = 0;
  #deadAfterMs = 0;
  #stopEnv: (() => void) | undefined;
  #syncQueued = false;
  readonly #sse: SseKit | undefined;

  /** Presence (the full client's presence.ts); absent: `presence: true` is ignored. */
  readonly #ext: PresenceExt | undefined;

  /**
   * @internal Built through an entry's HeraldClient (`@herald/client` passes the SSE kit,
   * `@herald/client/ws` does not), so the kit's types stay out of the published declarations.
   */
  constructor(options: HeraldClientOptions, sse: ((options: HeraldClientOptions) => SseKit) | undefined, ext?: () => PresenceExt) {
    const x = (this.#ext = ext?.());
    const kit = (this.#sse = sse?.(options));
    const o = (this.#o = settingsOf(options, kit));
    this.#kind = o.kinds[0];
    this.#tokens = new TokenSource(options.token, options.getToken);
    this.#acks = new Acks(o.ackMs, () => this.#dead('ack timeout'));
    this.#delivery = new Delivery(this.#subs, {
      user: (m) => this.#events.emit('user', m),
      unrecovered: (channel) => this.#events.emit('unrecovered', { channel }),
      recover: (ch) => this.#commands.recover(ch),
      refused: (topic, code) => this.#error(code, 'refused: ' + topic, { topic }),
    });
    this.#commands = new Commands({
      live: () => (this.#welcomed ? this.#transport : undefined),
      report: (code, message, details) => this.#error(code, message, details),
      subs: this.#subs, delivery: this.#delivery, tokens: this.#tokens, acks: this.#acks,
      retryMs: o.baseMs, sse: kit, out: x?.out,
    });
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The transport in use while connected, else undefined. */
  get transport(): TransportName | undefined {
    return this.#welcomed ? this.#kind : undefined;
  }

  /**
   * Adds an event handler; returns the function that removes it.
   * @example
   * client.on('unrecovered', ({ channel }) => reload(channel));
   * client.on('error', (e) => { if (e.reaction === 'ask-app') showSignedOut(); });
   */
  on<K extends keyof HeraldClientEvents>(event: K, handler: (...args: HeraldClientEvents[K]) => void): () => void {
    return this.#events.on(event, handler);
  }

  /**
   * Removes an event handler.
   * @example
   * client.off('user', onUserMessage);
   */
  off<K extends keyof HeraldClientEvents>(event: K, handler: (...args: HeraldClientEvents[K]) => void): void {
    this.#events.off(event, handler);
  }

  /**
   * Starts connecting (from `disconnected`; a no-op while connecting or connected). After a
   * 4003 or a `stop` close, calling it again is the application's decision to reconnect.
   * @example
   * client.on('error', (e) => { if (e.closeCode === 4003) askUser().then(() => client.connect()); });
   */
  connect(): void {
    if (this.#state === 'closed') throw new TypeError('client closed');
    if (this.#state !== 'disconnected') return;
    this.#attempt = 0;
    this.#hadWelcome = false;
    this.#stopEnv ??= watchEnvironment(() => this.#dead('offline'), () => this.#resume());
    this.#setState('connecting');
    this.#open();
  }

  /**
   * Closes the connection for good and stops every timer. Final: create a new client to connect again.
   * @example
   * window.addEventListener('pagehide', () => client.close());
   */
  close(): void {
    if (this.#state === 'closed') return;
    this.#gen++;
    clearTimeout(this.#retryTimer);
    this.#drop();
    this.#stopEnv?.();
    this.#setState('closed');
  }

  /**
   * Subscribes to a topic. Works in any state: the subscription is sent once connected and
   * restored (with recovery) after every reconnect. Throws TypeError on an invalid topic name.
   * @example
   * const sub = client.subscribe('orders.eu', (m) => render(m.data));
   * const r = await sub.ready; // { ok: true } or { ok: false, code: 'forbidden' }
   * sub.unsubscribe();
   */
  subscribe<T = unknown>(topic: string, onMessage: MessageHandler<T>, options: SubscribeOptions = {}): Subscription {
    const rewind = options.rewind ?? 0;
    if (!isValidTopic(topic)) throw new TypeError('invalid topic ' + JSON.stringify(topic));
    if (!Number.isSafeInteger(rewind) || rewind < 0) throw new TypeError('invalid rewind ' + rewind);
    const sub = this.#subs.add(topic, onMessage as MessageHandler, () => {
      this.#delivery.left(topic);
      this.#queueSync();
    }, rewind);
    this.#queueSync();
    return options.presence && this.#ext ? this.#ext.track(topic, sub) : sub;
  }

  /**
   * Replaces the token without reconnecting: over WebSocket the gateway checks it (`auth`) and
   * applies its `topics` at once (held topics it no longer allows are dropped, with an `error`);
   * over SSE the stream resumes with it. Topics refused as `forbidden` are subscribed again
   * (delivering to their handlers once allowed; refused again, with an `error`, if not).
   * Resolves once it is in effect (at once when not connected: the next connection uses it);
   * rejects with a HeraldError (`token_invalid`, `token_mismatch`) and keeps the previous token
   * when the gateway refuses it.
   * @example
   * await client.setToken(await fetchTokenWithMoreTopics());
   */
  setToken(token: string): Promise<void> {
    if (typeof token !== 'string' || token === '') throw new TypeError('invalid token');
    return this.#commands.auth(token);
  }

  #setState(state: ConnectionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#events.emit('state', state, previous);
  }

  #error(code: string, message: string, details?: HeraldErrorDetails): void {
    this.#events.emit('error', new HeraldError(code, message, details));
  }

  #open(): void {
    clearTimeout(this.#retryTimer);
    if (isOffline() || this.#transport !== undefined) return; // `online` resumes
    const gen = ++this.#gen;
    this.#tokens.usable(Date.now()).then(
      (token) => {
        if (gen === this.#gen) this.#start(token);
      },
      (err: unknown) => {
        if (gen !== this.#gen) return;
        this.#error('token_unavailable', 'getToken() failed', { cause: err });
        this.#retry('reconnect');
      },
    );
  }

  #start(token: string | undefined): void {
    const handlers: TransportHandlers = {
      heard: () => void (this.#heardAt = Date.now()),
      frame: (f) => this.#frame(f),
      closed: (info) => this.#closed(info),
    };
    this.#welcomed = false;
    try {
      if (this.#kind === 'websocket') {
        const pos = this.#delivery.positions;
        const user = this.#delivery.userChannel;
        const since = user === undefined ? undefined : pos.get(user);
        const box = this.#ext?.inboxAt?.();
        // `?since=&epoch=`: the personal channel's position; `inbox=`: the last inbox seq held (the gateway sends what follows).
        const query = (since === undefined || pos.era === undefined ? '' : `&since=${since}&epoch=${encodeURIComponent(pos.era)}`) + (box ? '&inbox=' + box : '');
        this.#transport = openWebSocket(this.#o.Socket as WebSocketConstructor, this.#o.ws + query.replace('&', '?'), token, handlers);
      } else {
        this.#transport = (this.#sse as SseKit).open(this.#commands.d, handlers);
      }
    } catch (err) {
      this.#closed({ code: 1006, reason: String(err) });
      return;
    }
    this.#connectTimer = setTimeout(() => this.#dead('connect timeout'), this.#o.connectMs);
  }

  #frame(f: InboundFrame): void {
    this.#ext?.feed(f, this.#transport);
    switch (f.op) {
      case 'msg':
        return this.#delivery.msg(f);
      case 'welcome':
        return this.#welcome(f);
      case 'ack':
      case 'err':
        if (!this.#acks.reply(f) && f.op === 'err') this.#error(String(f['code']), String(f['message']));
        return;
      case 'refresh':
        return this.#commands.refresh();
      case 'reconnect': {
        const after = typeof f['after'] === 'number' ? Math.max(0, f['after']) : 0;
        this.#drainAt = Date.now() + after;
        clearTimeout(this.#drainTimer);
        this.#drainTimer = setTimeout(() => this.#dead('draining', 1012), after);
        return;
      }
      default: // hb, pong: `heard` already noted them
    }
  }

  #welcome(f: InboundFrame): void {
    clearTimeout(this.#connectTimer);
    const quiet = this.#welcomed; // an SSE stream reopened for new topics or a new token
    const sse = this.#kind === 'sse';
    this.#welcomed = this.#hadWelcome = true;
    this.#attempt = 0;
    this.#sse?.welcomed(this.#kind);
    const info = { transport: this.#kind, node: String(f['node']), conn: String(f['conn']), user: String(f['user']), epoch: String(f['epoch']) };
    this.#delivery.welcome(info.user, info.epoch, sse ? undefined : f);
    if (sse) (this.#sse as SseKit).welcome(this.#commands.d, f['recovered']);
    const heartbeat = typeof f['heartbeat'] === 'number' ? f['heartbeat'] : 25_000;
    this.#deadAfterMs = 2 * heartbeat + DEAD_GRACE_MS;
    this.#heardAt = Date.now();
    this.#armDead();
    if (quiet) return;
    this.#setState('connected');
    this.#events.emit('connected', info);
    if (!sse) this.#commands.sync();
  }

  #armDead(): void {
    clearTimeout(this.#deadTimer);
    const wait = this.#heardAt + this.#deadAfterMs - Date.now();
    if (wait <= 0) return this.#dead('heartbeat timeout');
    this.#deadTimer = setTimeout(() => this.#armDead(), wait);
  }

  /** The transport is declared dead (silence, timeout, drain, offline): close it and react as to a dropped connection. */
  #dead(reason: string, code = 1006): void {
    if (this.#transport === undefined) return;
    this.#transport.close();
    this.#closed({ code, reason });
  }

  /** Forgets the current transport and everything tied to it. */
  #drop(): void {
    for (const t of [this.#connectTimer, this.#deadTimer, this.#drainTimer]) clearTimeout(t);
    this.#transport?.close();
    this.#transport = undefined;
    this.#welcomed = false;
    this.#acks.clear();
    this.#subs.resetWire();
  }

  #closed(info: CloseInfo): void {
    const kind = this.#kind;
    this.#transport = undefined;
    const welcomed = this.#welcomed;
    this.#drop();
    const d = decide(info, kind, this.#sse);
    const { reaction, code } = d;
    if (reaction === 'stop' || reaction === 'ask-app' || (reaction === 'new-token' && !this.#tokens.source)) {
      this.#setState('disconnected');
    } else {
      if (reaction === 'new-token') this.#tokens.stale = true;
      const next = welcomed ? undefined : this.#sse?.next(kind, this.#o.kinds);
      if (next !== undefined) [this.#kind, this.#attempt] = [next, 0];
      this.#retry(reaction, info.retryAfterMs);
    }
    this.#error(code, info.reason || code, { closeCode: info.code, reaction, transport: kind, status: info.status });
  }

  #retry(reaction: CloseReaction, retryAfterMs?: number): void {
    this.#setState(this.#hadWelcome ? 'reconnecting' : 'connecting');
    let delay: number;
    if (this.#drainAt !== undefined) delay = Math.max(0, this.#drainAt - Date.now());
    else delay = backoffDelay(this.#attempt++ + (reaction === 'reconnect-slow' ? SLOW_BACKOFF_STEPS : 0), this.#o.baseMs, this.#o.capMs);
    this.#drainAt = undefined;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#open(), Math.max(delay, retryAfterMs ?? 0));
  }

  /** Back online or visible again: retry now instead of waiting out the backoff; check a quiet connection. */
  #resume(): void {
    if (this.#transport !== undefined) {
      if (this.#welcomed) this.#armDead();
    } else if (this.#state === 'connecting' || this.#state === 'reconnecting') {
      this.#attempt = 0;
      this.#open();
    }
  }

  #queueSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      this.#commands.sync();
    });
  }
}
