/**
 * @herald/react: a provider and hooks over @herald/client.
 * @example
 * import { HeraldProvider, useTopic, useConnectionState } from '@herald/react';
 * @module
 */
export { HeraldProvider, useHerald } from './provider.js';
export type { HeraldProviderProps } from './provider.js';
export { useTopic, useUser, useConnectionState, DEFAULT_LIMIT } from './hooks.js';
export type { MessageListOptions, TopicOptions, TopicState } from './hooks.js';
