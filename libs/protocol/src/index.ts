/**
 * @herald/protocol: the wire contract shared by the gateway, the publish API and the SDK.
 * @module
 */
export {
  MAX_TOPIC_SEGMENTS, MAX_TOPIC_SEGMENT_CHARS, MAX_TOPIC_CHARS, MAX_USER_ID_BYTES, TOPIC_PREFIX, USER_PREFIX,
  isValidTopic, isValidUserId, isValidChannel, parseChannel, topicChannel, userChannel, utf8ByteLength,
} from './channels.js';
export type { ChannelKind, ChannelRef } from './channels.js';
export { CloseCode, CLOSE_REACTIONS, closeReaction, MAX_CLOSE_REASON_BYTES } from './close-codes.js';
export type { CloseReaction } from './close-codes.js';
export { HTTP_STATUS_BY_ERROR, errorBody } from './errors.js';
export type { HttpErrorCode, FrameErrorCode, ErrorBody } from './errors.js';
export {
  DEFAULT_MAX_FRAME_BYTES, MAX_TOPICS_PER_FRAME, MAX_FRAME_ID_CHARS, MAX_EPOCH_CHARS, MAX_TOKEN_CHARS,
  decodeClientFrame, validateClientFrame, encodeServerFrame, encodeMsgFrame, decodeServerFrame,
} from './codec.js';
export type { DecodeLimits, DecodeResult, FatalDecodeFailure, RecoverableDecodeFailure } from './codec.js';
export type {
  FrameId, SinceMap, SubFrame, UnsubFrame, AuthFrame, PingFrame, ClientFrame, ClientOp, WelcomeFrame, MsgFrame,
  SubResult, AckFrame, ErrFrame, PongFrame, HeartbeatFrame, RefreshFrame, ReconnectFrame, ServerFrame, ServerOp,
  PresenceFrame, PresenceMember, ReceiptFrame, InboxFrame, ReadFrame,
} from './frames.js';
export { MAX_RECEIPT_SEQS } from './frames.js';
