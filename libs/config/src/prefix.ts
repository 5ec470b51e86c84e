/** The prefix of every Herald environment variable. */
export const ENV_PREFIX = 'HERALD_';
