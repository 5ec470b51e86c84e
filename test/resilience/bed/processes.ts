/** The processes of the bed: a 3-node nats-server cluster, gateway and publish-API processes (`herald gateway|publish-api`). */
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { httpStatus, spawnService, startNatsCluster, waitFor, type NatsClusterHandle, type ServiceProcess } from '@herald/testkit';
import { LoadBalancer } from './load-balancer.js';
import { API_KEY, CLI, SECRET } from './tokens.js';

export interface BedOptions {
  readonly gatewayEnv?: Record<string, string>;
  /** Extra environment for one gateway (`gw-1`, `gw-2`, `gw-3`), over `gatewayEnv`. */
  readonly gatewayEnvById?: Record<string, Record<string, string>>;
  /** Node flags for the gateway processes (e.g. `--max-old-space-size=256`). */
  readonly gatewayNodeArgs?: readonly string[];
  readonly apiEnv?: Record<string, string>;
  /** Listen queue of the load balancer (see LoadBalancer.listen). */
  readonly lbBacklog?: number;
}

export interface Gateway {
  readonly id: string;
  proc: ServiceProcess;
}

export class Bed {
  nats!: NatsClusterHandle;
  readonly gateways: Gateway[] = [];
  readonly apis: ServiceProcess[] = [];
  /** Every process that ever ran on the bed (restarted ones included), for the log checks. */
  readonly allProcs: ServiceProcess[] = [];
  lb!: LoadBalancer;
  readonly #opts: BedOptions;

  constructor(opts: BedOptions = {}) {
    this.#opts = opts;
  }

  #common(): Record<string, string> {
    return {
      HERALD_NATS_URL: this.nats.urls,
      HERALD_NATS_REPLICAS: '3',
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEYS: API_KEY,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_LOG_LEVEL: 'info',
      HERALD_HISTORY_SIZE: '10000',
      HERALD_UNSUBSCRIBE_LINGER_MS: '0',
    };
  }

  async spawnGateway(id: string): Promise<ServiceProcess> {
    const proc = await spawnService({
      args: [...(this.#opts.gatewayNodeArgs ?? []), CLI, 'gateway'],
      env: {
        ...this.#common(), HERALD_NODE_ID: id, HERALD_HEARTBEAT_MS: '1000', HERALD_DRAIN_WINDOW_MS: '2000', HERALD_DRAIN_TIMEOUT_MS: '5000', HERALD_CANARY_INTERVAL_MS: '1000',
        ...(this.#opts.gatewayEnv ?? {}), ...(this.#opts.gatewayEnvById?.[id] ?? {}),
      },
      timeoutMs: 30_000,
    });
    this.allProcs.push(proc);
    return proc;
  }

  async start(): Promise<this> {
    this.nats = await startNatsCluster(3);
    const gws = await Promise.all(['gw-1', 'gw-2', 'gw-3'].map(async (id) => ({ id, proc: await this.spawnGateway(id) })));
    this.gateways.push(...gws);
    const apis = await Promise.all(
      ['api-1', 'api-2'].map((id) =>
        spawnService({ args: [CLI, 'publish-api'], env: { ...this.#common(), HERALD_NODE_ID: id, ...(this.#opts.apiEnv ?? {}) }, timeoutMs: 30_000 }),
      ),
    );
    this.apis.push(...apis);
    this.allProcs.push(...apis);
    this.lb = await new LoadBalancer(this.livePorts()).listen(this.#opts.lbBacklog);
    await Promise.all(this.allProcs.map((p) => waitFor(async () => (await status(p.port, '/readyz')) === 200, 20_000, `readiness of ${p.port}`)));
    return this;
  }

  livePorts(): number[] {
    return this.gateways.map((g) => g.proc.port);
  }

  gateway(id: string): Gateway {
    const g = this.gateways.find((x) => x.id === id);
    if (!g) throw new Error(`no gateway ${id}`);
    return g;
  }

  /** Starts a gateway again under the same id (new port) and puts it back behind the load balancer. */
  async restartGateway(id: string): Promise<void> {
    const g = this.gateway(id);
    g.proc = await this.spawnGateway(id);
    await waitFor(async () => (await status(g.proc.port, '/readyz')) === 200, 20_000, `readiness of ${id}`);
    this.lb.setBackends(this.livePorts());
  }

  /** Takes a gateway out of the load balancer (what a balancer does when /readyz fails). */
  unroute(id: string): void {
    const port = this.gateway(id).proc.port;
    this.lb.setBackends(this.lb.backends.filter((p) => p !== port));
  }

  /** The nats-server that leads the Herald stream (the worst one to lose). */
  async streamLeader(): Promise<string> {
    const nc = await natsConnect({ servers: this.nats.servers.map((x) => `127.0.0.1:${x.port}`) });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('HERALD');
      return info.cluster?.leader ?? '';
    } finally {
      await nc.close();
    }
  }

  async api(path: string, body?: unknown, apiIndex = 0): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${(this.apis[apiIndex] as ServiceProcess).port}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async stop(): Promise<void> {
    await this.lb?.close();
    await Promise.all(this.allProcs.map((p) => p.kill()));
    await this.nats?.stop();
  }
}

/** HTTP status of GET `path` on a bed process, 0 on a transport error. */
export const status = httpStatus;
