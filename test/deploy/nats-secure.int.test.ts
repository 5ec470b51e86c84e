// A nats-server as production runs it: TLS only, a client certificate required (verify), and
// users known by NKey. The gateway and the publish API connect with the files the chart mounts
// (HERALD_NATS_TLS_*_FILE, HERALD_NATS_NKEY_SEED_FILE) and deliver a message end to end, both
// from hand-set variables and from the environment and Secret volumes the Helm chart renders;
// without the client certificate or the seed they are refused. Certificates: openssl, here.
// And a server in operator mode (JWT accounts, users with .creds files): HERALD_NATS_CREDS_FILE.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nkeys } from '@nats-io/transport-node';
import { BusError, natsSecurity, openBus } from '@herald/bus';
import { startNatsServer, type NatsServerHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { stringify as stringifyYaml } from 'yaml';
import { CHART, deliverToUser, helm, helmBinary, parseManifests, setupOnce, startRoles, type K8sObject } from './helpers.js';

const SECRET = 'secure-nats-test-secret-0123456789';
const API_KEY = 'secure-nats-test-api-key-0123456789';

interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  readonly seedFile: string;
  readonly publicKey: string;
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', [...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and an NKey user seed. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pki-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=herald-test-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem']);
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    writeFileSync(join(dir, `${name}.ext`), ext + '\n');
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=herald-test-${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  }
  const user = nkeys.createUser();
  const seedFile = join(dir, 'user.nk');
  writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()) + '\n', { mode: 0o600 });
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
    seedFile,
    publicKey: user.getPublicKey(),
  };
}

/** A NATS JWT (v2 claims) for `sub`, signed by `signer` (an operator or account key pair). */
function natsJwt(signer: ReturnType<typeof nkeys.createOperator>, sub: string, name: string, nats: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ typ: 'JWT', alg: 'ed25519-nkey' });
  const body = b64({ jti: randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: signer.getPublicKey(), name, sub, nats: { ...nats, version: 2 } });
  const sig = Buffer.from(signer.sign(new TextEncoder().encode(`${head}.${body}`))).toString('base64url');
  return `${head}.${body}.${sig}`;
}

/** Operator-mode configuration (decentralized JWT auth, accounts preloaded) and a user's .creds file. */
function operatorMode(dir: string): { conf: string[]; credsFile: string } {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const system = nkeys.createAccount();
  const user = nkeys.createUser();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const accountJwt = natsJwt(operator, account.getPublicKey(), 'herald', {
    type: 'account', limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 }, default_permissions: { pub: {}, sub: {} },
  });
  const systemJwt = natsJwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: unlimited });
  const userJwt = natsJwt(account, user.getPublicKey(), 'herald-user', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const credsFile = join(dir, 'herald.creds');
  const seed = new TextDecoder().decode(user.getSeed());
  writeFileSync(credsFile, `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`, { mode: 0o600 });
  return {
    credsFile,
    conf: [
      `operator: "${natsJwt(operator, operator.getPublicKey(), 'herald-test', { type: 'operator' })}"`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: { ${account.getPublicKey()}: "${accountJwt}", ${system.getPublicKey()}: "${systemJwt}" }`,
    ],
  };
}

interface RenderedPod {
  spec: { template: { spec: {
    containers: { env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: unknown } }[]; envFrom?: { configMapRef?: { name: string } }[]; volumeMounts?: { name: string; mountPath: string }[] }[];
    volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
  } } };
}

/**
 * What a pod of `component` would start with, run here: the ConfigMap and env entries of the
 * rendered Deployment, its Secret volumes materialized under `root` from `secrets` (name → key →
 * local file), and the paths in the environment moved under `root` with them.
 */
function podEnv(objs: readonly K8sObject[], component: string, root: string, secrets: Record<string, Record<string, string>>, secretEnv: Record<string, string>): Record<string, string> {
  const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component) as (K8sObject & RenderedPod) | undefined;
  if (!dep) throw new Error(`no ${component} Deployment`);
  const pod = dep.spec.template.spec;
  const c = pod.containers[0]!;
  const env: Record<string, string> = {};
  for (const src of c.envFrom ?? []) {
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === src.configMapRef?.name);
    Object.assign(env, (cm?.['data'] ?? {}) as Record<string, string>);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = `${component}-pod`;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secretEnv[e.name] ?? '';
  }
  for (const m of c.volumeMounts ?? []) {
    const secret = pod.volumes?.find((v) => v.name === m.name)?.secret;
    if (!secret) continue;
    for (const item of secret.items ?? []) {
      const from = secrets[secret.secretName]?.[item.key];
      if (from === undefined) throw new Error(`Secret ${secret.secretName} has no key ${item.key} here`);
      mkdirSync(join(root, m.mountPath), { recursive: true });
      copyFileSync(from, join(root, m.mountPath, item.path));
    }
  }
  for (const [k, v] of Object.entries(env)) if (v.startsWith('/etc/herald/')) env[k] = join(root, v);
  return env;
}

describe('a nats-server that requires TLS, a client certificate and an NKey user', () => {
  let pki: Pki | undefined;
  let nats: NatsServerHandle | undefined;
  const started: ServiceProcess[] = [];
  const clients: WsTestClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await Promise.all(started.map((p) => p.kill()));
    await nats?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const bed = setupOnce(async () => {
    pki = makePki();
    nats = await startNatsServer({
      extraConf: [
        `tls { cert_file: "${pki.serverCert}", key_file: "${pki.serverKey}", ca_file: "${pki.ca}", verify: true, timeout: 5 }`,
        `authorization { users: [ { nkey: "${pki.publicKey}" } ] }`,
      ],
    });
    return { pki, nats };
  }, 60_000);

  const securityEnv = (p: Pki): Record<string, string> => ({
    HERALD_NATS_TLS_CA_FILE: p.ca,
    HERALD_NATS_TLS_CERT_FILE: p.clientCert,
    HERALD_NATS_TLS_KEY_FILE: p.clientKey,
    HERALD_NATS_NKEY_SEED_FILE: p.seedFile,
  });

  it('the gateway and the publish API connect and deliver', async () => {
    const { pki: p, nats: server } = bed();
    const common = { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info', HERALD_NATS_URL: server.url, ...securityEnv(p) };
    const pair = await startRoles({ ...common, HERALD_JWT_SECRET: SECRET }, { ...common, HERALD_API_KEYS: API_KEY });
    const { gateway, api } = pair;
    started.push(gateway, api);
    clients.push(await deliverToUser(pair, { secret: SECRET, apiKey: API_KEY, user: 'u1', data: { over: 'tls' } }));
    // The logs name the files, never what they hold.
    const seed = readFileSync(p.seedFile, 'utf8').trim();
    const key = readFileSync(p.clientKey, 'utf8');
    for (const line of [...gateway.lines, ...api.lines]) {
      expect(line.includes(seed)).toBe(false);
      expect(line.includes(key.split('\n')[1] ?? '')).toBe(false);
    }
    expect(gateway.logs().some((r) => r['msg'] === 'bus connection settings' && r['tls'] === true && r['auth'] === 'nkey')).toBe(true);
  });

  it('the environment the chart renders with nats.tls and nats.credentials connects both roles', async () => {
    const { pki: p, nats: server } = bed();
    const values = {
      auth: { existingSecret: 'herald-auth' },
      nats: {
        url: server.url, replicas: 1, stream: 'HERALD_SECURE', subjectPrefix: 'secure.herald',
        tls: { ca: { secretName: 'nats-ca', key: 'ca.crt' }, clientCert: { secretName: 'herald-nats-client-tls' } },
        credentials: { secretName: 'herald-nats-user', nkeySeedKey: 'user.nk' },
      },
    };
    const root = join(p.dir, 'pods');
    mkdirSync(root);
    const valuesFile = join(p.dir, 'values.yaml');
    writeFileSync(valuesFile, stringifyYaml(values));
    const objs = parseManifests(helm(helmBinary(), ['template', 'herald', CHART, '-f', valuesFile]));
    // The Secrets as the cluster holds them (cert-manager's kubernetes.io/tls keys, a seed file).
    const secrets = { 'nats-ca': { 'ca.crt': p.ca }, 'herald-nats-client-tls': { 'tls.crt': p.clientCert, 'tls.key': p.clientKey }, 'herald-nats-user': { 'user.nk': p.seedFile } };
    const local = { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0' };
    const gwEnv = { ...podEnv(objs, 'gateway', join(root, 'gw'), secrets, { HERALD_JWT_SECRET: SECRET }), ...local };
    const apiEnv = { ...podEnv(objs, 'publish-api', join(root, 'api'), secrets, { HERALD_API_KEYS: API_KEY }), ...local };
    expect(gwEnv).toMatchObject({ HERALD_NATS_PREFIX: 'secure.herald', HERALD_NATS_STREAM: 'HERALD_SECURE' });
    for (const k of ['HERALD_NATS_TLS_CA_FILE', 'HERALD_NATS_TLS_CERT_FILE', 'HERALD_NATS_TLS_KEY_FILE', 'HERALD_NATS_NKEY_SEED_FILE']) {
      expect(gwEnv[k], k).toMatch(new RegExp(`^${root}/gw/etc/herald/nats/`));
      expect(apiEnv[k], k).toMatch(new RegExp(`^${root}/api/etc/herald/nats/`));
    }
    const pair = await startRoles(gwEnv, apiEnv);
    started.push(pair.gateway, pair.api);
    clients.push(await deliverToUser(pair, { secret: SECRET, apiKey: API_KEY, user: 'u2', data: { via: 'chart' } }));
  });

  it('is refused without the client certificate, and without the seed', async () => {
    const { pki: p, nats: server } = bed();
    const attempt = (security: Parameters<typeof natsSecurity>[0]): Promise<unknown> =>
      openBus({ natsUrl: server.url, timeoutMs: 2000, security }).then(async (bus) => {
        await bus.close();
        return undefined;
      }, (e: unknown) => e);
    expect(await attempt({ tlsCaFile: p.ca, nkeySeedFile: p.seedFile })).toBeInstanceOf(BusError);
    expect(await attempt({ tlsCaFile: p.ca, tlsCertFile: p.clientCert, tlsKeyFile: p.clientKey })).toBeInstanceOf(BusError);
    const ok = await openBus({ natsUrl: server.url, timeoutMs: 2000, security: { tlsCaFile: p.ca, tlsCertFile: p.clientCert, tlsKeyFile: p.clientKey, nkeySeedFile: p.seedFile } });
    await ok.close();
  });

  it('stops at start with a clear message for a missing or malformed file', () => {
    const { pki: p } = bed();
    expect(() => natsSecurity({ tlsCaFile: join(p.dir, 'absent.pem') })).toThrow(/HERALD_NATS_TLS_CA_FILE: cannot read .*absent\.pem \(ENOENT\)/);
    expect(() => natsSecurity({ tlsCertFile: p.clientCert })).toThrow(/set both or neither/);
    expect(() => natsSecurity({ nkeySeedFile: p.ca })).toThrow(/HERALD_NATS_NKEY_SEED_FILE: .* does not hold an NKey seed/);
    expect(() => natsSecurity({ credsFile: p.seedFile })).toThrow(/not a NATS \.creds file/);
    expect(() => natsSecurity({ credsFile: p.seedFile, nkeySeedFile: p.seedFile })).toThrow(/not both/);
    // A message never carries the file's contents.
    const seed = readFileSync(p.seedFile, 'utf8').trim();
    try {
      natsSecurity({ credsFile: p.seedFile });
    } catch (err) {
      expect(String((err as Error).message).includes(seed)).toBe(false);
    }
  });
});

describe('a nats-server with decentralized JWT auth (operator, accounts, users)', () => {
  let dir = '';
  let nats: NatsServerHandle | undefined;
  const started: ServiceProcess[] = [];
  const clients: WsTestClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await Promise.all(started.map((p) => p.kill()));
    await nats?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('both roles connect with a .creds file and deliver; without it they are refused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-creds-'));
    const { conf, credsFile } = operatorMode(dir);
    nats = await startNatsServer({ extraConf: conf });
    const refused: unknown = await openBus({ natsUrl: nats.url, timeoutMs: 2000 }).then(async (b) => void (await b.close()), (e: unknown) => e);
    expect(refused).toBeInstanceOf(BusError);
    const common = { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info', HERALD_NATS_URL: nats.url, HERALD_NATS_CREDS_FILE: credsFile };
    const pair = await startRoles({ ...common, HERALD_JWT_SECRET: SECRET }, { ...common, HERALD_API_KEYS: API_KEY });
    const { gateway, api } = pair;
    started.push(gateway, api);
    clients.push(await deliverToUser(pair, { secret: SECRET, apiKey: API_KEY, user: 'u3', data: { via: 'creds' } }));
    expect(gateway.logs().some((r) => r['msg'] === 'bus connection settings' && r['auth'] === 'creds')).toBe(true);
    const secretPart = readFileSync(credsFile, 'utf8').split('\n').find((l) => l.startsWith('SU'))!;
    for (const line of [...gateway.lines, ...api.lines]) expect(line.includes(secretPart)).toBe(false);
  });
});
