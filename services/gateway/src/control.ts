/** Answers the bus's control requests for this node: disconnect a user, presence counts. */
import type { ControlHandlers } from '@herald/bus';
import { CloseCode, TOPIC_PREFIX } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Connections } from './conn/registry.js';
import type { Sender } from './conn/send.js';

export interface ControlDeps {
  readonly connections: Pick<Connections, 'ofUser' | 'countOfUser'>;
  readonly sender: Sender;
  /** Subscribers of a channel on this node: native uWS ones plus SSE streams (0 before mount). */
  readonly numSubscribers: (channel: string) => number;
  /** The `control` component logger. */
  readonly log: Logger;
  /** This node's members of a presence topic (presence/members.ts); absent: presence members off. */
  readonly members?: ControlHandlers['members'];
}

/** Codes a server may send in a close frame: 1000, the 101x service codes, and the application range. */
function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && (code === 1000 || code === 1001 || code === 1008 || (code >= 1011 && code <= 1013) || (code >= 3000 && code <= 4999));
}

/** Handlers for Bus.serveControl. An unusable close code becomes 4003 (forbidden). */
export function createControlHandlers(deps: ControlDeps): ControlHandlers {
  return {
    disconnect(user, code, reason) {
      const closeCode = isSendableCloseCode(code) ? code : CloseCode.Forbidden;
      const conns = deps.connections.ofUser(user);
      for (const st of conns) deps.sender.close(st, closeCode, reason);
      if (conns.length > 0) deps.log.info({ user, code: closeCode, count: conns.length }, 'disconnected by control request');
      return conns.length;
    },
    presence(query) {
      if ('user' in query) return deps.connections.countOfUser(query.user);
      return deps.numSubscribers(TOPIC_PREFIX + query.topic);
    },
    ...(deps.members ? { members: deps.members } : {}),
  };
}
