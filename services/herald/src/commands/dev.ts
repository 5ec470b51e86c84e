/**
 * `herald dev`: the gateway and the publish API in one process, on one port, with the
 * embedded memory bus (or NATS when HERALD_NATS_URL is set). With no key configured
 * it generates development credentials and prints a ready token, the WebSocket URL
 * and a curl command. It also serves the live page at `/` with its development-only
 * endpoints (`/dev/token`, `/dev/publish`; loopback clients only unless HERALD_DEV_PUBLIC=true).
 * @module
 */
import { signToken, createTokenVerifier } from '@herald/auth';
import { ConfigError, loadConfig } from '@herald/config';
import { createGateway, gatewayConfigSchema, verifierConfigOf } from '@herald/gateway';
import { createPublishApi, publishApiConfigSchema } from '@herald/publish-api';
import { FORCED_EXIT_HEADROOM_MS, runRole, type RunningRole } from '@herald/runtime';
import { METRICS_CONTENT_TYPE } from '@herald/telemetry';
import { asApp, guardApp, listen, loadUws, mountOpsRoutes } from '@herald/uws';
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

/** The dev environment: generated development credentials fill in a missing JWT key or API key. */
function devEnvironment(env: Env): { devEnv: Env; generated: boolean; hasApiKeys: boolean } {
  const devEnv: Record<string, string | undefined> = { ...env };
  // The inbox is on in dev (the gateway's HERALD_INBOX default is off): one store for the gateway and the publish API.
  devEnv['HERALD_INBOX'] ??= 'true';
  const hasKey = Boolean(env['HERALD_JWT_SECRET'] || env['HERALD_JWT_PUBLIC_KEY'] || env['HERALD_JWKS_URL']);
  const hasApiKeys = Boolean(env['HERALD_API_KEYS']);
  if (hasKey && hasApiKeys) return { devEnv, generated: false, hasApiKeys };
  const { credentials } = loadOrCreateDevCredentials(process.cwd());
  if (!hasKey) devEnv['HERALD_JWT_SECRET'] = credentials.jwtSecret;
  if (!hasApiKeys) devEnv['HERALD_API_KEYS'] = credentials.apiKey;
  return { devEnv, generated: true, hasApiKeys };
}

/**
 * The all-in-one role through the shared runner (libs/runtime): node id, logger, metrics and
 * bus as for every role; SIGTERM drains the gateway, Ctrl-C stops at once; both wait for
 * in-flight publishes (SHUTDOWN_TIMEOUT_MS), close the bus and flush the log before exiting.
 */
export async function runDev(env: Env): Promise<RunningRole> {
  const { devEnv, generated, hasApiKeys } = devEnvironment(env);
  const { gateway: gwConfig, publishApi: apiConfig } = loadDevConfigs(devEnv);
  const verifier = createTokenVerifier(verifierConfigOf(gwConfig));
  return runRole({
    config: gwConfig,
    warnMemoryBus: false,
    drainOnInterrupt: false,
    forcedExitMs: gwConfig.DRAIN_TIMEOUT_MS + apiConfig.SHUTDOWN_TIMEOUT_MS + FORCED_EXIT_HEADROOM_MS,
    start: async ({ nodeId, logger, metrics, bus }) => {
      const gateway = createGateway({ config: gwConfig, logger, bus, verifier, metrics, nodeId });
      // On the memory bus both share the gateway's in-process inbox store (receipts and appends meet).
      const inbox = gateway.inboxStore;
      const publishApi = createPublishApi({ config: apiConfig, logger, bus, metrics, ...(inbox === undefined ? {} : { inbox }) });
      const app = guardApp(asApp(loadUws().App()), (err, where) => logger.error({ err, where }, 'handler threw; contained'));
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
      return {
        port: listening.port,
        drain: () => gateway.drain(),
        close: async () => {
          listening.stopListening();
          await gateway.close();
          const idle = await publishApi.idle(apiConfig.SHUTDOWN_TIMEOUT_MS);
          if (!idle) logger.warn({ timeoutMs: apiConfig.SHUTDOWN_TIMEOUT_MS }, 'requests still in flight at shutdown');
          app.close();
        },
      };
    },
  });
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
