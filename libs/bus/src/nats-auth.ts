/**
 * How a service proves itself to NATS and checks NATS in return: TLS (a CA to trust,
 * a client certificate) and credentials (a `.creds` file, or an NKey seed), all read
 * from files, as Kubernetes mounts Secrets. File contents are secrets: errors name the
 * file and the setting, never what the file holds.
 * @module
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, nkeys, type Authenticator, type TlsOptions } from '@nats-io/transport-node';
import { BusError } from './errors.js';

/** Paths of the files that secure the NATS connection (every one optional). */
export interface NatsSecurityFiles {
  /** PEM CA bundle that signs the server's certificate (HERALD_NATS_TLS_CA_FILE); set: TLS is required. */
  readonly tlsCaFile?: string | undefined;
  /** PEM client certificate (HERALD_NATS_TLS_CERT_FILE); needs tlsKeyFile; set: TLS is required. */
  readonly tlsCertFile?: string | undefined;
  /** PEM private key of the client certificate (HERALD_NATS_TLS_KEY_FILE). */
  readonly tlsKeyFile?: string | undefined;
  /** NATS `.creds` file: user JWT and NKey seed (HERALD_NATS_CREDS_FILE). */
  readonly credsFile?: string | undefined;
  /** File holding an NKey user seed, `SU…` (HERALD_NATS_NKEY_SEED_FILE). */
  readonly nkeySeedFile?: string | undefined;
}

/** The connect options the files give: TLS and an authenticator, each only when configured. */
export interface NatsSecurity {
  readonly tls?: TlsOptions;
  readonly authenticator?: Authenticator;
}

const set = (v: string | undefined): v is string => v !== undefined && v.length > 0;

/**
 * Reads and checks the files once, so a missing or malformed one stops the service at start
 * with a clear message. Throws BusError('invalid').
 */
export function natsSecurity(files: NatsSecurityFiles): NatsSecurity {
  const tls = tlsOptions(files);
  if (set(files.credsFile) && set(files.nkeySeedFile)) {
    throw new BusError('invalid', 'set HERALD_NATS_CREDS_FILE or HERALD_NATS_NKEY_SEED_FILE, not both');
  }
  let authenticator: Authenticator | undefined;
  if (set(files.credsFile)) authenticator = credsFrom(files.credsFile);
  else if (set(files.nkeySeedFile)) authenticator = nkeySeedFrom(files.nkeySeedFile);
  return { ...(tls === undefined ? {} : { tls }), ...(authenticator === undefined ? {} : { authenticator }) };
}

function tlsOptions(files: NatsSecurityFiles): TlsOptions | undefined {
  if (set(files.tlsCertFile) !== set(files.tlsKeyFile)) {
    throw new BusError('invalid', 'HERALD_NATS_TLS_CERT_FILE and HERALD_NATS_TLS_KEY_FILE go together: set both or neither');
  }
  const tls: { caFile?: string; certFile?: string; keyFile?: string } = {};
  if (set(files.tlsCaFile)) tls.caFile = readable(files.tlsCaFile, 'HERALD_NATS_TLS_CA_FILE');
  if (set(files.tlsCertFile) && set(files.tlsKeyFile)) {
    tls.certFile = readable(files.tlsCertFile, 'HERALD_NATS_TLS_CERT_FILE');
    tls.keyFile = readable(files.tlsKeyFile, 'HERALD_NATS_TLS_KEY_FILE');
  }
  return Object.keys(tls).length === 0 ? undefined : tls;
}

/** The path, once it is known to be readable (the NATS client reads TLS files itself, at each connect). */
function readable(path: string, setting: string): string {
  read(path, setting);
  return path;
}

function read(path: string, setting: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BusError('invalid', `${setting}: cannot read ${path} (${code})`);
  }
}

/**
 * An authenticator that reads the file again at every (re)connect, so rotated credentials
 * (a Kubernetes Secret volume updates in place) are used without a restart; if the file is
 * unreadable at that moment, the last good contents serve.
 */
function rereading(path: string, setting: string, check: (bytes: Uint8Array) => void): () => Uint8Array {
  let last = read(path, setting);
  check(last);
  return () => {
    try {
      const bytes = readFileSync(path);
      check(bytes);
      last = bytes;
    } catch {
      // keep the last good contents
    }
    return last;
  };
}

function credsFrom(path: string): Authenticator {
  const source = rereading(path, 'HERALD_NATS_CREDS_FILE', (bytes) => {
    const text = Buffer.from(bytes).toString('utf8');
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) {
      throw new BusError('invalid', `HERALD_NATS_CREDS_FILE: ${path} is not a NATS .creds file (a user JWT and an NKey seed)`);
    }
  });
  return credsAuthenticator(source);
}

function nkeySeedFrom(path: string): Authenticator {
  const source = rereading(path, 'HERALD_NATS_NKEY_SEED_FILE', (bytes) => {
    try {
      nkeys.fromSeed(seedOf(bytes));
    } catch {
      throw new BusError('invalid', `HERALD_NATS_NKEY_SEED_FILE: ${path} does not hold an NKey seed (SU…)`);
    }
  });
  return nkeyAuthenticator(() => seedOf(source()));
}

/** The seed without surrounding blanks (files written by `echo` end with a newline). */
function seedOf(bytes: Uint8Array): Uint8Array {
  return new TextEncoder().encode(Buffer.from(bytes).toString('utf8').trim());
}

/** A NATS URL fit for logs and errors: a user, password or token in it becomes `***`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}
