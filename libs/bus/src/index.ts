/**
 * @herald/bus: the Bus interface, its in-process and NATS implementations, and the subject scheme.
 * @module
 */
export type {
  Bus, BusMessage, BusStatus, ControlHandlers, HistoryPage, HistoryQuery, MessageHandler, MessageTrace, PresenceQuery, PublishRequest, PublishResult,
} from './bus.js';
export { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from './bus.js';
export { BusError } from './errors.js';
export { parseMemberState } from './members.js';
export type { MemberEntry, MemberPlane, MemberState } from './members.js';
export type { BusErrorCode } from './errors.js';
export { DEFAULT_HISTORY_OPTIONS, resolveHistoryOptions } from './history.js';
export type { HistoryOptions } from './history.js';
export { MemoryBus, DEFAULT_MAX_CHANNELS, DEFAULT_MAX_DEDUPE_ENTRIES } from './memory-bus.js';
export type { MemoryBusOptions } from './memory-bus.js';
export {
  inSubject, outSubject, channelOfSubject, canaryChannel, encodeToken, decodeToken,
  IN_PREFIX, OUT_PREFIX, IN_WILDCARD, OUT_WILDCARD, CTL_DISCONNECT, CTL_PRESENCE,
  subjectScheme, DEFAULT_SUBJECTS, DEFAULT_SUBJECT_PREFIX, SUBJECT_PREFIX_PATTERN, MAX_PARTITIONS, partitionOf, fnv1a32,
} from './subjects.js';
export type { SubjectScheme, ChannelRoute } from './subjects.js';
export { natsSecurity } from './nats-auth.js';
export type { NatsSecurity, NatsSecurityFiles } from './nats-auth.js';
export { NatsBus, DEFAULT_TIMEOUT_MS, DEFAULT_STARTUP_TIMEOUT_MS, DEFAULT_PUBLISH_LINGER_MS } from './nats-bus.js';
export type { NatsBusOptions } from './nats-bus.js';
export { addOrGetStream, DEFAULT_STREAM, partitionStream } from './nats-stream.js';
export { retrySetup } from './setup-retry.js';
export type { SetupRetry, SetupRetryOptions, SetupRetryPause, SetupRetryWindow } from './setup-retry.js';
export { readSubjectRange, parseAckSubject, readFromLeader, LeaderReadLimitError } from './nats-subject-range.js';
export type { SubjectRangeOptions, SubjectRangeVisit } from './nats-subject-range.js';
export { openBus, openBusFromConfig } from './open-bus.js';
export type { OpenBusOptions, BusConfigKeys } from './open-bus.js';
