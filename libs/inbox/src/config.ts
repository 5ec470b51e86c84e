/**
 * The configuration fragment of the inbox (merged into a role's schema; loadConfig strips
 * `HERALD_`): docs/inbox.md#configuration.
 * @module
 */
import { z } from 'zod';
import { int } from '@herald/config';
import { DEFAULT_INBOX_MAX, DEFAULT_INBOX_TTL_MS } from './common.js';

export const inboxConfig = z.object({
  /** Longest an inbox message is kept, ms (default 7 days): the stream's max age; a publish may ask for less. */
  INBOX_TTL_MS: int(60_000, 366 * 86_400_000).default(DEFAULT_INBOX_TTL_MS),
  /** Messages kept per user (default 1,000): one more drops the user's oldest. */
  INBOX_MAX: int(1, 100_000).default(DEFAULT_INBOX_MAX),
});

export type InboxConfig = Readonly<z.infer<typeof inboxConfig>>;
