/**
 * Redaction for printing a configuration (`herald check-config`): secrets are replaced by
 * their shape (length, count), credentials inside URLs are masked. Keys are judged by name,
 * so a future `*_SECRET` / `*_PASSWORD` / `*_TOKEN` key is hidden without a change here.
 * @module
 */

/** Keys whose values are secrets. Public keys and JWKS URLs are not. */
export function isSecretKey(key: string): boolean {
  if (/PUBLIC/.test(key)) return false;
  return /(SECRET|PASSWORD|PASS$|TOKEN|API_KEYS?$|CREDS|NKEY|SEED|PRIVATE)/.test(key);
}

/** `nats://user:pass@host` → `nats://user:***@host`; a lone user part (a token) is masked too. */
function maskUrlCredentials(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@\s,]+)@/gi, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon >= 0 ? `${scheme}${userinfo.slice(0, colon)}:***@` : `${scheme}***@`;
  });
}

function redactValue(key: string, value: unknown): unknown {
  if (value === undefined) return undefined;
  if (isSecretKey(key)) {
    if (Array.isArray(value)) return `<redacted: ${value.length} value${value.length === 1 ? '' : 's'}>`;
    return `<redacted: ${String(value).length} characters>`;
  }
  if (typeof value === 'string') return maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? maskUrlCredentials(v) : v));
  return value;
}

/** A copy of `config` fit to print: secret keys shown by shape, URL credentials masked. */
export function redactConfig(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) out[key] = redactValue(key, value);
  return out;
}
