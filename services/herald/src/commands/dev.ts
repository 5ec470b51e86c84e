/**
 * `herald dev`: the gateway and the publish API in one process, on one port, with the
 * embedded memory bus (or NATS when HERALD_NATS_URL is set). With no key configured
 * it generates development credentials and prints a ready token, the WebSocket URL
 * and a curl command. It also serves the live page at `/` with its development-only
 * endpoints (`/dev/token`, `/dev/publish`; loopback clients only unless HERALD_DEV_PUBLIC=true).
 * @module
 */
import { hostname } from 'node:os';
import { signToken, createTokenVerifier } from '@herald/auth';
import { openBusFromConfig } from '@herald/bus';
import { ConfigError, loadConfig } from '@herald/config';
import { createGateway, gatewayConfigSchema, verifierConfigOf } from '@herald/gateway';
import { createPublishApi, publishApiConfigSchema } from '@herald/publish-api';
import { createLogger, createMetricsRegistry, METRICS_CONTENT_TYPE } from '@herald/telemetry';
import { asApp, listen, loadUws, mountOpsRoutes } from '@herald/uws';
import { loadOrCreateDevCredentials } from '../dev-credentials.js';
import { mountDevRoutes } from '../dev-page/routes.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The dev token's lifetime: long enough for an afternoon of trying things. */
const DEV_TOKEN_TTL_S = 24 * 3600;

/** Loads both configurations from one environment and reports every problem at once. */
function loadDevConfigs(env: Env) {
  const issues: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues.filter((i) => !issues.includes(i)));
      else throw err;
      return undefined;
    }
  };
  const gateway = attempt(() => loadConfig(gatewayConfigSchema, env));
  const publishApi = attempt(() => loadConfig(publishApiConfigSchema, env));
  if (!gateway || !publishApi) throw new ConfigError(issues);
  return { gateway, publishApi };
}

export async function runDev(env: Env): Promise<void> {
  const devEnv: Record<string, string | undefined> = { ...env };
  const hasKey = Boolean(env['HERALD_JWT_SECRET'] || env['HERALD_JWT_PUBLIC_KEY'] || env['HERALD_JWKS_URL']);
  const hasApiKeys = Boolean(env['HERALD_API_KEYS']);
  let generated = false;
  if (!hasKey || !hasApiKeys) {
    const { credentials } = loadOrCreateDevCredentials(process.cwd());
    if (!hasKey) devEnv['HERALD_JWT_SECRET'] = credentials.jwtSecret;
    if (!hasApiKeys) devEnv['HERALD_API_KEYS'] = credentials.apiKey;
    generated = true;
  }
  const { gateway: gwConfig, publishApi: apiConfig } = loadDevConfigs(devEnv);
  const nodeId = gwConfig.NODE_ID ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: gwConfig.LOG_LEVEL, node: nodeId });
  const uws = loadUws();
  const bus = await openBusFromConfig(gwConfig, nodeId, logger.child({ component: 'bus' }));
  const metrics = createMetricsRegistry({ node: nodeId });
  const verifier = createTokenVerifier(verifierConfigOf(gwConfig));
  const gateway = createGateway({ config: gwConfig, logger, bus, verifier, metrics, nodeId });
  const publishApi = createPublishApi({ config: apiConfig, logger, bus, metrics });

  const app = asApp(uws.App());
  gateway.mount(app);
  publishApi.mount(app);
  mountOpsRoutes(app, {
    readiness: () => {
      const g = gateway.readiness();
      return g.ready ? publishApi.readiness() : g;
    },
    metrics: () => metrics.metrics(),
    metricsContentType: METRICS_CONTENT_TYPE,
  });
  let port = 0;
  const apiKey = devEnv['HERALD_API_KEYS']?.split(',')[0]?.trim();
  mountDevRoutes(app, {
    secret: devEnv['HERALD_JWT_SECRET'],
    audience: gwConfig.JWT_AUDIENCE,
    issuer: gwConfig.JWT_ISSUER,
    publishUrl: () => `http://${loopbackHost(gwConfig.HOST)}:${port}`,
    apiKey: apiKey === '' ? undefined : apiKey,
    allowPublic: env['HERALD_DEV_PUBLIC'] === 'true',
    logger,
  });
  await gateway.start();
  const listening = await listen(app, gwConfig.HOST, gwConfig.PORT);
  port = listening.port;
  // The banner (human) before the `listening` line (machines wait for it).
  const secret = devEnv['HERALD_JWT_SECRET'];
  if (secret !== undefined) {
    const token = await signToken({ secret, sub: 'dev-user', topics: ['>'], ttlSec: DEV_TOKEN_TTL_S });
    process.stderr.write(devBanner(listening.port, token, hasApiKeys ? undefined : devEnv['HERALD_API_KEYS'], generated));
  }
  logger.info({ port: listening.port, mode: 'dev', bus: bus.kind }, 'listening');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // SIGTERM drains (clients reconnect and recover); Ctrl-C in a terminal stops at once.
    const drain = signal === 'SIGTERM' ? gateway.drain() : Promise.resolve();
    void drain
      .then(() => gateway.close())
      .then(() => {
        listening.stopListening();
        app.close();
        return bus.close();
      })
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** The address this process reaches itself on: the listen address unless it is a wildcard. */
function loopbackHost(host: string): string {
  if (host === '0.0.0.0' || host === '' || host === '::' || host === 'localhost') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function devBanner(port: number, token: string, apiKey: string | undefined, generated: boolean): string {
  const base = `127.0.0.1:${port}`;
  const lines = [
    '',
    '  Herald dev is running (gateway + publish API, one process).',
    generated ? '  Development credentials are in .herald/dev.json: never use them in production.' : '',
    '',
    `  Live page: http://${base}/`,
    `  WebSocket   ws://${base}/v1/ws`,
    `  Token       ${token}`,
    '              (sub "dev-user", every topic, valid 24 h; mint others with `herald token`)',
    '',
    '  Try it:',
    `    node -e "const w=new (require('ws'))('ws://${base}/v1/ws',['herald.v1','herald.bearer.'+process.argv[1]]);w.on('message',m=>console.log(String(m)));w.on('open',()=>w.send(JSON.stringify({op:'sub',id:1,topics:['news']})))" '${token}'`,
    '',
    '  Publish:',
    `    curl -s -X POST http://${base}/v1/publish -H 'content-type: application/json' \\`,
    `      -H 'authorization: Bearer ${apiKey ?? '<one of HERALD_API_KEYS>'}' \\`,
    `      -d '{"topic":"news","data":{"hello":"world"}}'`,
    '',
  ];
  return lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n') + '\n';
}
