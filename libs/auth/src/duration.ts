/** Parses short human durations (`45s`, `30m`, `1h`, `2d`, `3600`) into seconds, for the CLI and config. */

const DURATION = /^(\d{1,15})([smhd]?)$/;
const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a duration into whole seconds: a non-negative integer, optionally followed by one unit
 * `s`, `m`, `h` or `d` (a bare number is seconds). No spaces, signs, decimals or combined units.
 * @throws TypeError on anything else, or when the result is not a safe integer.
 * @example parseDuration('1h') // 3600
 */
export function parseDuration(s: string): number {
  const m = typeof s === 'string' ? DURATION.exec(s) : null;
  if (m === null) throw new TypeError(`invalid duration ${JSON.stringify(s)}: expected e.g. 45s, 30m, 1h, 2d or 3600`);
  const seconds = Number(m[1]) * (SECONDS_PER_UNIT[m[2] ?? ''] ?? 1);
  if (!Number.isSafeInteger(seconds)) throw new TypeError(`duration ${JSON.stringify(s)} is too large`);
  return seconds;
}
