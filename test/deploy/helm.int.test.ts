// The Helm chart (deploy/helm/herald): `helm lint --strict` and `helm template` with the
// default values and every deploy/helm/herald/ci/*.yaml, each rendered manifest validated
// against the Kubernetes schemas (kubernetes-models), and the operational promises checked:
// grace periods outlast the drain, no secret in a ConfigMap, probes on the served port,
// the image's command, non-root pods, and references between objects that resolve.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { loadConfig } from '@herald/config';
import { gatewayConfigSchema } from '@herald/gateway';
import { publishApiConfigSchema } from '@herald/publish-api';
import { CHART, finalImage, helm, helmBinary, imagePathInRepo, parseDockerfile, parseManifests, readRepo, repoPath, setupOnce, type K8sObject } from './helpers.js';

// ---- shapes the checks read (only the fields used) ------------------------------------------
interface Probe { httpGet?: { path: string; port: string | number } }
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  topologySpreadConstraints?: { labelSelector?: { matchLabels?: Record<string, string> } }[];
}
interface DeploymentLike extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface ServiceLike extends K8sObject {
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}

// ---- validation against the Kubernetes (and CRD) schemas -------------------------------------
type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'gateway.networking.k8s.io/v1/HTTPRoute': HTTPRoute,
};

function validate(obj: K8sObject): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind} (${obj.metadata.name}): add its kubernetes-models class to MODELS`);
  try {
    new Model(obj as never).validate();
  } catch (err) {
    throw new Error(`${obj.kind} ${obj.metadata.name} is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// ---- reading rendered objects -------------------------------------------------------------
const ROLES = [
  { component: 'gateway', command: 'gateway', schema: gatewayConfigSchema },
  { component: 'publish-api', command: 'publish-api', schema: publishApiConfigSchema },
] as const;

const SECRETISH = /(SECRET|PASSWORD|TOKEN|API_KEYS?|_KEYS?)$/;
/** A secret by its name; the public half of a key pair (HERALD_VAPID_PUBLIC_KEY) is not one. */
const isSecretish = (k: string): boolean => SECRETISH.test(k) && !k.endsWith('_PUBLIC_KEY');
/**
 * Stand-ins for Secret values the chart does not create (auth.existingSecret, nats.urlSecret).
 * The VAPID private key is a throwaway made with `herald vapid` for this file only: it is the
 * private half of the HERALD_VAPID_PUBLIC_KEY of ci/inbox-push-events-values.yaml (the publish
 * API's schema refuses a pair that does not match).
 */
const EXTERNAL_SECRET_VALUES: Record<string, string> = {
  HERALD_JWT_SECRET: 'an-existing-secret-of-32-characters!',
  HERALD_API_KEYS: 'existing-api-key-0123456789',
  HERALD_NATS_URL: 'nats://user:password@nats.messaging.svc:4222',
  HERALD_VAPID_PRIVATE_KEY: 'oMtHnbmDw6F9rlEfpgr2MzUosAfHhJPGN92nQqo53Q0',
  HERALD_WEBHOOK_SECRET: 'whsec_+CuoMI+6P2JsFtVrSYDtkGamyXj4/slXQ2z+eTlv06Q=',
  // What key webhook-urls of the example's existingSecret would hold (ci/inbox-push-events-values.yaml).
  HERALD_WEBHOOK_URLS: 'https://hooks.example.com/herald#user.*|topic.vacated',
};
/** A key that names a secret, or a setting whose value may carry one (a webhook URL with user:password@ or ?token=). */
const SECRET_VALUED = new Set(['HERALD_WEBHOOK_URLS']);

const byKind = <T extends K8sObject = K8sObject>(objs: readonly K8sObject[], kind: string): T[] => objs.filter((o) => o.kind === kind) as T[];
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

function deploymentOf(objs: readonly K8sObject[], component: string): DeploymentLike {
  const found = byKind<DeploymentLike>(objs, 'Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === component);
  expect(found, `one ${component} Deployment`).toHaveLength(1);
  return found[0]!;
}

/** The environment a container starts with, resolved through its ConfigMaps and Secrets. */
function resolveEnv(objs: readonly K8sObject[], pod: DeploymentLike, container: Container): { env: Record<string, string>; fromSecret: Set<string> } {
  const env: Record<string, string> = {};
  const fromSecret = new Set<string>();
  const configMap = (name: string): Record<string, string> => {
    const cm = byKind(objs, 'ConfigMap').find((c) => c.metadata.name === name);
    if (!cm) throw new Error(`${container.name}: ConfigMap ${name} is not rendered`);
    return (cm['data'] ?? {}) as Record<string, string>;
  };
  for (const src of container.envFrom ?? []) {
    if (src.configMapRef) Object.assign(env, configMap(src.configMapRef.name));
    if (src.secretRef) throw new Error(`${container.name}: envFrom a whole Secret hides which keys it needs; use secretKeyRef`);
  }
  for (const v of container.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef) {
      expect(v.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
      env[v.name] = `${pod.metadata.name}-7d9c8b6f5d-x2x9k`;
    } else if (v.valueFrom?.configMapKeyRef) {
      const value = configMap(v.valueFrom.configMapKeyRef.name)[v.valueFrom.configMapKeyRef.key];
      if (value === undefined) throw new Error(`${v.name}: key ${v.valueFrom.configMapKeyRef.key} is missing`);
      env[v.name] = value;
    } else if (v.valueFrom?.secretKeyRef) {
      const ref = v.valueFrom.secretKeyRef;
      fromSecret.add(v.name);
      const secret = byKind(objs, 'Secret').find((s) => s.metadata.name === ref.name);
      if (secret) {
        const data = (secret['data'] ?? {}) as Record<string, string>;
        if (data[ref.key] === undefined) throw new Error(`${v.name}: Secret ${ref.name} has no key ${ref.key}`);
        env[v.name] = Buffer.from(data[ref.key]!, 'base64').toString('utf8');
      } else {
        const stand = EXTERNAL_SECRET_VALUES[v.name];
        if (stand === undefined) throw new Error(`${v.name} comes from Secret ${ref.name}, which is not rendered and has no stand-in`);
        env[v.name] = stand;
      }
    } else throw new Error(`${v.name}: unsupported env source`);
  }
  return { env, fromSecret };
}

interface Mounted { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }
interface SecretVolume { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } }

/** The Secret and key a container sees at `path` (through a read-only Secret volume mount); undefined if none. */
function secretFileAt(dep: DeploymentLike, c: Container, path: string): { secretName: string; key: string } | undefined {
  const volumes = (dep.spec.template.spec as PodSpec & { volumes?: SecretVolume[] }).volumes ?? [];
  for (const m of (c as Container & Mounted).volumeMounts ?? []) {
    if (!path.startsWith(m.mountPath + '/')) continue;
    const rel = path.slice(m.mountPath.length + 1);
    const v = volumes.find((x) => x.name === m.name)?.secret;
    const item = v?.items?.find((i) => i.path === rel);
    if (v && item && m.readOnly === true) return { secretName: v.secretName, key: item.key };
  }
  return undefined;
}

function probePort(container: Container, probe: Probe | undefined): number {
  const port = probe?.httpGet?.port;
  const declared = container.ports ?? [];
  const hit = typeof port === 'number' ? declared.find((p) => p.containerPort === port) : declared.find((p) => p.name === port);
  if (!hit) throw new Error(`${container.name}: probe port ${String(port)} is not a declared container port`);
  return hit.containerPort;
}

function preStopSeconds(container: Container): number {
  const pre = container.lifecycle?.preStop;
  if (pre?.sleep) return pre.sleep.seconds;
  const cmd = pre?.exec?.command ?? [];
  if (cmd[0] === 'sleep' && cmd[1] !== undefined) return Number(cmd[1]);
  return 0;
}

// ---- the image the pods run --------------------------------------------------------------------
const image = finalImage(parseDockerfile(readRepo('deploy/docker/Dockerfile')));

// ---- scenarios ----------------------------------------------------------------------------------
const CI_DIR = join(CHART, 'ci');
/** The least an install must give: the chart generates no secret (see "GitOps" below). */
const SECRET_ARGS = ['--set-string', 'auth.jwt.secret=a-secret-given-at-install-0123', '--set-string', 'auth.apiKeys[0]=an-api-key-given-at-install-0123'];
const SCENARIOS: { name: string; args: string[] }[] = [
  { name: 'default values (with the two secrets)', args: SECRET_ARGS },
  ...readdirSync(CI_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ name: `ci/${f}`, args: ['-f', join(CI_DIR, f)] })),
];

// Fetched once per machine; when that is impossible every test below fails with the reason.
const helmBin = setupOnce(helmBinary, 150_000);

describe('helm chart deploy/helm/herald', () => {
  it('has realistic values files to test beside the defaults', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(4);
  });

  it('ships the same alert rules as deploy/prometheus/alerts.yaml', () => {
    expect(readRepo('deploy/helm/herald/files/alerts.yaml')).toBe(readRepo('deploy/prometheus/alerts.yaml'));
  });

  it('the schema validation catches a broken manifest (it is not vacuous)', () => {
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 'http' }] }] } } },
    } as unknown as K8sObject;
    expect(() => validate(broken)).toThrow(/containerPort/);
  });

  it('refuses values that would put a secret in a ConfigMap or cut the drain short', () => {
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set-string', 'gateway.env.HERALD_JWT_SECRET=abcdefghijklmnopqrstuvwxyz'])).toThrow(/HERALD_JWT_SECRET/);
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set-string', 'env.HERALD_API_KEYS=abcdefghijklmnopqrstuvwxyz'])).toThrow(/HERALD_API_KEYS/);
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'gateway.terminationGracePeriodSeconds=20'])).toThrow(/terminationGracePeriodSeconds/);
  });

  it('generates no secret: with no value, no existingSecret and no Secret in the cluster, the render fails saying what to do', () => {
    // `helm template` (what Argo CD runs) has no cluster: `lookup` finds nothing, as on a first install.
    expect(() => helm(helmBin(), ['template', 'r', CHART])).toThrow(/auth\.jwt\.secret is empty and there is no Secret r-herald-auth in namespace default .*auth\.existingSecret/s);
    expect(() => helm(helmBin(), ['template', 'r', CHART, SECRET_ARGS[0]!, SECRET_ARGS[1]!])).toThrow(/auth\.apiKeys is empty .*auth\.existingSecret/s);
    const objs = parseManifests(helm(helmBin(), ['template', 'r', CHART, '--set', 'auth.existingSecret=managed-elsewhere']));
    expect(byKind(objs, 'Secret'), 'existingSecret: the chart renders no Secret').toHaveLength(0);
    for (const d of byKind<DeploymentLike>(objs, 'Deployment')) {
      const refs = (d.spec.template.spec.containers[0]!.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : []));
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(r).toBe('managed-elsewhere');
    }
  });

  it('refuses unknown keys in the env maps (values.schema.json), and a setting of the other role or of the chart', () => {
    const cases: [string, string][] = [
      ['env', 'HERALD_LOG_LEVLE'],
      ['gateway.env', 'HERALD_MAX_CONECTIONS'],
      ['publishApi.env', 'HERALD_MAX_CONNECTIONS'],
      ['gateway.env', 'HERALD_RATE_LIMIT_RPS'],
      ['env', 'HERALD_NATS_STREAM'],
      ['env', 'HERALD_NATS_TLS_CA_FILE'],
      ['env', 'HERALD_PORT'],
    ];
    for (const [map, key] of cases) {
      expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set-string', `${map}.${key}=1`]), `${map}.${key}`)
        .toThrow(new RegExp(`at '/${map.replace('.', '/')}': additional properties '${key}' not allowed`));
    }
    // Known keys pass.
    helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set-string', 'gateway.env.HERALD_MAX_CONNECTIONS=5,publishApi.env.HERALD_RATE_LIMIT_RPS=5,env.HERALD_NATS_TIMEOUT_MS=3000']);
  });

  it('allows in each env map only settings of the roles that receive it', () => {
    const schema = JSON.parse(readRepo('deploy/helm/herald/values.schema.json')) as { definitions: Record<string, { properties: Record<string, unknown> }> };
    const allowed = (def: string): string[] => Object.keys(schema.definitions[def]!.properties);
    const settings = (shape: Record<string, unknown>): Set<string> => new Set(Object.keys(shape).map((k) => `HERALD_${k}`));
    const gateway = settings(gatewayConfigSchema.shape);
    const api = settings(publishApiConfigSchema.shape);
    for (const k of allowed('sharedEnv')) {
      expect(gateway.has(k) && api.has(k), `${k} is a setting of both roles`).toBe(true);
      expect(allowed('gatewayEnv')).toContain(k);
      expect(allowed('publishApiEnv')).toContain(k);
    }
    for (const k of allowed('gatewayEnv')) expect(gateway.has(k), `${k} is a gateway setting`).toBe(true);
    for (const k of allowed('publishApiEnv')) expect(api.has(k), `${k} is a publish API setting`).toBe(true);
    for (const k of [...allowed('gatewayEnv'), ...allowed('publishApiEnv')]) expect(isSecretish(k), k).toBe(false);
  });

  it('gives each install its subject prefix and stream, and refuses a new prefix on the default stream', () => {
    const objs = parseManifests(helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'nats.subjectPrefix=acme.prod,nats.stream=HERALD_ACME']));
    for (const cm of byKind(objs, 'ConfigMap')) expect(cm['data']).toMatchObject({ HERALD_NATS_PREFIX: 'acme.prod', HERALD_NATS_STREAM: 'HERALD_ACME' });
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'nats.subjectPrefix=acme'])).toThrow(/nats\.stream is still the default HERALD/);
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'nats.subjectPrefix=acme.*,nats.stream=X'])).toThrow(/subjectPrefix/);
    expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'nats.credentials.secretName=u,nats.credentials.credsKey=a,nats.credentials.nkeySeedKey=b'])).toThrow(/not both/);
  });

  it('passes the partition count to both roles (default 1) and refuses one out of range', () => {
    for (const cm of byKind(parseManifests(helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS])), 'ConfigMap')) {
      expect(cm['data']).toMatchObject({ HERALD_NATS_PARTITIONS: '1' });
    }
    const objs = parseManifests(helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', 'nats.partitions=3']));
    expect(byKind(objs, 'ConfigMap').length).toBeGreaterThan(0);
    for (const cm of byKind(objs, 'ConfigMap')) expect(cm['data']).toMatchObject({ HERALD_NATS_PARTITIONS: '3' });
    for (const bad of ['0', '65']) {
      expect(() => helm(helmBin(), ['template', 'r', CHART, ...SECRET_ARGS, '--set', `nats.partitions=${bad}`]), bad).toThrow(/partitions/);
    }
  });

  it('NOTES explain how to mint a token and publish with curl', () => {
    const out = helm(helmBin(), ['install', 'demo', CHART, '--dry-run=client', '--namespace', 'push', ...SECRET_ARGS]);
    const notes = out.slice(out.indexOf('NOTES:'));
    expect(notes).toContain('kubectl -n push exec deploy/demo-herald-gateway -- herald token --sub u1 --topics news');
    expect(notes).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:8081\/v1\/publish/);
    expect(notes).toContain("get secret demo-herald-auth -o jsonpath='{.data.api-keys}'");
  });

  describe('inbox, Web Push and events (ci/inbox-push-events-values.yaml)', () => {
    const EXAMPLE = ['-f', join(CI_DIR, 'inbox-push-events-values.yaml')];
    const render = (...more: string[]): K8sObject[] => parseManifests(helm(helmBin(), ['template', 'herald', CHART, '--namespace', 'push', ...EXAMPLE, ...more]));
    const rendered = setupOnce(() => render());
    /** A role's container, its env entries by name, and its resolved environment. */
    const role = (objs: readonly K8sObject[], component: string) => {
      const dep = deploymentOf(objs, component);
      const c = dep.spec.template.spec.containers[0]!;
      const entries = new Map((c.env ?? []).map((e) => [e.name, e]));
      return { dep, c, entries, ...resolveEnv(objs, dep, c) };
    };
    const configMapData = (objs: readonly K8sObject[], component: string): Record<string, string> => {
      const { c } = role(objs, component);
      const name = c.envFrom?.[0]?.configMapRef?.name;
      return (byKind(objs, 'ConfigMap').find((cm) => cm.metadata.name === name)?.['data'] ?? {}) as Record<string, string>;
    };

    it('gives gateways the inbox, events, webhooks and presence, the webhook secret from the Secret', () => {
      const objs = rendered();
      const gw = role(objs, 'gateway');
      expect(gw.env).toMatchObject({
        HERALD_INBOX: 'true',
        HERALD_EVENTS: 'true',
        HERALD_OFFLINE_GRACE_MS: '10000',
        HERALD_WEBHOOK_URLS: 'https://hooks.example.com/herald#user.*|topic.vacated',
        HERALD_PRESENCE_TOPICS: 'room.*,doc.>',
        HERALD_INBOX_TTL_MS: '1209600000',
        HERALD_INBOX_MAX: '500',
      });
      expect(gw.entries.get('HERALD_WEBHOOK_SECRET')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald-auth', key: 'webhook-secret' });
      expect(configMapData(objs, 'gateway')).not.toHaveProperty('HERALD_WEBHOOK_SECRET');
      // The URLs too (they may carry credentials): from auth.existingSecret, never the ConfigMap.
      expect(gw.entries.get('HERALD_WEBHOOK_URLS')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald-auth', key: 'webhook-urls' });
      expect(configMapData(objs, 'gateway')).not.toHaveProperty('HERALD_WEBHOOK_URLS');
      expect(byKind(objs, 'Secret'), 'existingSecret: the chart renders no Secret').toHaveLength(0);
      // Web Push is the publish API's: nothing of it on gateways.
      for (const k of Object.keys(gw.env)) expect(k).not.toMatch(/^HERALD_(VAPID|PUSH)_/);
      const config = loadConfig(gatewayConfigSchema, gw.env);
      expect(config.INBOX).toBe(true);
      expect(config.EVENTS).toBe(true);
      expect(config.WEBHOOK_SECRET).toBe(EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_SECRET']);
      expect(config.WEBHOOK_URLS).toBe(EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_URLS']);
      // Key names of an existing Secret are the operator's.
      const renamed = role(render('--set', 'auth.secretKeys.webhookUrls=hook-targets'), 'gateway');
      expect(renamed.entries.get('HERALD_WEBHOOK_URLS')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald-auth', key: 'hook-targets' });
    });

    it('gives the publish API the VAPID public key and subject (ConfigMap), the private key from a secretKeyRef, and the gateways\' token rules', () => {
      const objs = rendered();
      const api = role(objs, 'publish-api');
      const data = configMapData(objs, 'publish-api');
      expect(data).toMatchObject({
        HERALD_VAPID_PUBLIC_KEY: 'BDxigOIBtAYhoUl3Iolq0H3EArPTOiBlAWPa2ZNfvkHcdRMgZi-vis0UsFpak92-bqgjfQn5AM9G9vKT7S4c5h4',
        HERALD_VAPID_SUBJECT: 'mailto:ops@example.com',
        HERALD_PUSH_AFTER_MS: '30000',
        HERALD_PUSH_RATE_PER_MIN: '10',
        // The same inbox limits as the gateways, the same token rules (audience from gateway.env, issuer shared).
        HERALD_INBOX_TTL_MS: '1209600000',
        HERALD_INBOX_MAX: '500',
        HERALD_JWT_AUDIENCE: 'herald',
        HERALD_JWT_ISSUER: 'https://auth.example.com',
        // CORS of the browser routes: the app's origin, as on gateways.
        HERALD_ALLOWED_ORIGINS: 'https://app.example.com',
      });
      expect(configMapData(objs, 'gateway')['HERALD_ALLOWED_ORIGINS']).toBe('https://app.example.com');
      expect(data).not.toHaveProperty('HERALD_VAPID_PRIVATE_KEY');
      expect(api.entries.get('HERALD_VAPID_PRIVATE_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald-auth', key: 'vapid-private-key' });
      // POST /v1/push-subscriptions verifies user tokens: the gateways' key, from the same Secret key.
      expect(api.entries.get('HERALD_JWT_SECRET')?.valueFrom?.secretKeyRef).toEqual(role(objs, 'gateway').entries.get('HERALD_JWT_SECRET')?.valueFrom?.secretKeyRef);
      expect(api.fromSecret).toEqual(new Set(['HERALD_API_KEYS', 'HERALD_VAPID_PRIVATE_KEY', 'HERALD_JWT_SECRET']));
      const gatewayOnly = Object.keys(api.env).filter((k) => /^HERALD_(INBOX|EVENTS|OFFLINE_GRACE_MS|WEBHOOK_|PRESENCE_)/.test(k) && !/^HERALD_INBOX_(TTL_MS|MAX)$/.test(k));
      expect(gatewayOnly, 'gateway settings on the publish API').toEqual([]);
      const config = loadConfig(publishApiConfigSchema, api.env);
      expect(config.VAPID_PRIVATE_KEY).toBe(EXTERNAL_SECRET_VALUES['HERALD_VAPID_PRIVATE_KEY']);
      expect(config.JWT_AUDIENCE).toBe('herald');
      expect(config.ALLOWED_ORIGINS).toEqual(['https://app.example.com']);
      // The other key sources follow the gateways' too.
      const jwks = render('--set', 'auth.jwt.source=jwks,auth.jwt.jwksUrl=https://auth.example.com/jwks.json');
      expect(configMapData(jwks, 'publish-api')['HERALD_JWKS_URL']).toBe('https://auth.example.com/jwks.json');
      expect(role(jwks, 'publish-api').fromSecret).toEqual(new Set(['HERALD_API_KEYS', 'HERALD_VAPID_PRIVATE_KEY']));
      const pem = new Map((deploymentOf(render('--set', 'auth.jwt.source=publicKey'), 'publish-api').spec.template.spec.containers[0]!.env ?? []).map((e) => [e.name, e]));
      expect(pem.get('HERALD_JWT_PUBLIC_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'herald-auth', key: 'jwt-public-key' });
      expect(pem.has('HERALD_JWT_SECRET')).toBe(false);
    });

    it('routes the browser routes: SSE receipts to gateways, the two push routes to the publish API (Ingress and HTTPRoute)', () => {
      const objs = render('--set', 'httpRoute.enabled=true,httpRoute.parentRefs[0].name=public');
      const gateway = role(objs, 'gateway').dep.metadata.name;
      const api = role(objs, 'publish-api').dep.metadata.name;
      const ing = byKind(objs, 'Ingress')[0]!;
      const paths = (ing['spec'] as { rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string } } }[] } }[] }).rules.flatMap((r) => r.http.paths);
      const backend = (p: string): string | undefined => paths.find((x) => x.path === p && x.pathType === 'Exact')?.backend.service.name;
      expect(backend('/v1/inbox/receipts')).toBe(gateway);
      expect(backend('/v1/push/vapid-public-key')).toBe(api);
      expect(backend('/v1/push-subscriptions')).toBe(api);
      expect(paths.filter((x) => x.backend.service.name === api).map((x) => x.path).sort(), 'only the browser routes of the publish API').toEqual(['/v1/push-subscriptions', '/v1/push/vapid-public-key']);
      const route = byKind(objs, 'HTTPRoute')[0]!;
      const rules = (route['spec'] as { rules: { matches: { path: { type: string; value: string } }[]; backendRefs: { name: string }[] }[] }).rules;
      const routeOf = (p: string): string | undefined => rules.find((r) => r.matches.some((m) => m.path.type === 'Exact' && m.path.value === p))?.backendRefs[0]?.name;
      expect(routeOf('/v1/inbox/receipts')).toBe(gateway);
      expect(routeOf('/v1/push/vapid-public-key')).toBe(api);
      expect(routeOf('/v1/push-subscriptions')).toBe(api);
      // Features off (the default values): none of these routes, and no token key on the publish API.
      const plain = parseManifests(helm(helmBin(), ['template', 'herald', CHART, ...SECRET_ARGS, '--set', 'ingress.enabled=true']));
      const plainPaths = JSON.stringify(byKind(plain, 'Ingress')[0]!['spec']);
      for (const p of ['/v1/inbox/receipts', '/v1/push/vapid-public-key', '/v1/push-subscriptions']) expect(plainPaths).not.toContain(p);
      expect(role(plain, 'publish-api').entries.has('HERALD_JWT_SECRET')).toBe(false);
      expect(role(plain, 'publish-api').entries.has('HERALD_VAPID_PRIVATE_KEY')).toBe(false);
      expect(role(plain, 'gateway').entries.has('HERALD_WEBHOOK_SECRET')).toBe(false);
      expect(role(plain, 'gateway').entries.has('HERALD_WEBHOOK_URLS')).toBe(false);
      expect(role(plain, 'gateway').env).not.toHaveProperty('HERALD_WEBHOOK_URLS');
    });

    it('puts the VAPID private key and webhook secret given as values in the chart\'s Secret, never in a ConfigMap', () => {
      const vapid = EXTERNAL_SECRET_VALUES['HERALD_VAPID_PRIVATE_KEY']!;
      const whsec = EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_SECRET']!;
      const urls = ['--set-string', `auth.webhookUrls=${EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_URLS']!}`];
      const objs = render('--set', 'auth.existingSecret=', ...SECRET_ARGS, ...urls, '--set-string', `auth.vapidPrivateKey=${vapid}`, '--set-string', `auth.webhookSecret=${whsec}`);
      const secret = byKind(objs, 'Secret').find((s) => s.metadata.name === 'herald-auth');
      const data = (secret?.['data'] ?? {}) as Record<string, string>;
      expect(Buffer.from(data['vapid-private-key'] ?? '', 'base64').toString()).toBe(vapid);
      expect(Buffer.from(data['webhook-secret'] ?? '', 'base64').toString()).toBe(whsec);
      for (const cm of byKind(objs, 'ConfigMap')) {
        const text = JSON.stringify(cm['data']);
        expect(text).not.toContain(vapid);
        expect(text).not.toContain(whsec);
      }
      expect(role(objs, 'publish-api').env['HERALD_VAPID_PRIVATE_KEY']).toBe(vapid);
      expect(role(objs, 'gateway').env['HERALD_WEBHOOK_SECRET']).toBe(whsec);
      // Neither given nor in existingSecret nor in the cluster: the render fails and says what to set.
      expect(() => render('--set', 'auth.existingSecret=', ...SECRET_ARGS, ...urls, '--set-string', `auth.webhookSecret=${whsec}`)).toThrow(/auth\.vapidPrivateKey .*is empty and there is no Secret herald-auth/s);
      expect(() => render('--set', 'auth.existingSecret=', ...SECRET_ARGS, ...urls, '--set-string', `auth.vapidPrivateKey=${vapid}`)).toThrow(/auth\.webhookSecret .*is empty and there is no Secret herald-auth/s);
    });

    it('puts webhook URLs given as values in the chart\'s Secret, never in a ConfigMap, and the gateways read them from it', () => {
      const vapid = EXTERNAL_SECRET_VALUES['HERALD_VAPID_PRIVATE_KEY']!;
      const whsec = EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_SECRET']!;
      // Credentials in a URL are why: a token in the path or the query (Herald refuses user:password@).
      const urls = ['https://hooks.example.com/herald/s3cr3t-path-token#user.*|topic.vacated', 'https://crm.example.com/hook?k=tok-0123456789abcdef#user.offline'];
      const owned = ['--set', 'auth.existingSecret=', ...SECRET_ARGS, '--set-string', `auth.vapidPrivateKey=${vapid}`, '--set-string', `auth.webhookSecret=${whsec}`];
      const asString = render(...owned, '--set-string', `auth.webhookUrls=${urls.join(' ')}`);
      const asList = render(...owned, '--set-string', `auth.webhookUrls[0]=${urls[0]!}`, '--set-string', `auth.webhookUrls[1]=${urls[1]!}`);
      for (const [form, objs] of [['string', asString], ['list', asList]] as const) {
        const secret = byKind(objs, 'Secret').find((s) => s.metadata.name === 'herald-auth');
        const data = (secret?.['data'] ?? {}) as Record<string, string>;
        expect(Buffer.from(data['webhook-urls'] ?? '', 'base64').toString(), form).toBe(urls.join(' '));
        for (const cm of byKind(objs, 'ConfigMap')) {
          expect(cm['data'], `${form}: ${cm.metadata.name}`).not.toHaveProperty('HERALD_WEBHOOK_URLS');
          const text = JSON.stringify(cm['data']);
          for (const part of ['s3cr3t-path-token', 'tok-0123456789abcdef', 'hooks.example.com', 'crm.example.com']) expect(text, `${form}: ${cm.metadata.name}`).not.toContain(part);
        }
        const gw = role(objs, 'gateway');
        expect(gw.entries.get('HERALD_WEBHOOK_URLS')?.valueFrom?.secretKeyRef, form).toEqual({ name: 'herald-auth', key: 'webhook-urls' });
        expect(gw.fromSecret.has('HERALD_WEBHOOK_URLS')).toBe(true);
        expect(gw.env['HERALD_WEBHOOK_URLS']).toBe(urls.join(' '));
        // Herald's own configuration accepts what the pod starts with.
        expect(loadConfig(gatewayConfigSchema, gw.env).WEBHOOK_URLS).toBe(urls.join(' '));
        expect(role(objs, 'publish-api').entries.has('HERALD_WEBHOOK_URLS'), 'gateways only').toBe(false);
        // A changed URL rolls the gateways: it is part of the Secret the checksum covers.
        const changed = render(...owned, '--set-string', `auth.webhookUrls=${urls[1]!}`);
        expect(role(changed, 'gateway').dep.spec.template.metadata, form).not.toEqual(gw.dep.spec.template.metadata);
      }
      // Neither given nor in existingSecret nor in the cluster: the render fails and says what to set.
      expect(() => render(...owned)).toThrow(/auth\.webhookUrls \(webhooks are on: gateway\.webhooks\.enabled\) is empty and there is no Secret herald-auth .*auth\.existingSecret/s);
    });

    it('refuses webhook URLs the old way (gateway.env) or where they would be ignored, without printing them', () => {
      const secretUrl = 'https://hooks.example.com/herald?token=s3cr3t-pass';
      /** helm's own message (the test helper's error starts with the command line, which holds the value). */
      const failure = (...args: string[]): string => {
        try {
          render(...args);
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          return text.slice(text.indexOf('\nError: ') + 1);
        }
        throw new Error(`rendered: ${args.join(' ')}`);
      };
      const old = failure('--set-string', `gateway.env.HERALD_WEBHOOK_URLS=${secretUrl}`);
      expect(old).toMatch(/gateway\.env\.HERALD_WEBHOOK_URLS is no longer accepted: webhook URLs may carry credentials.*auth\.webhookUrls \(or key webhook-urls of auth\.existingSecret\) and set gateway\.webhooks\.enabled: true/s);
      // Without the webhooks switch too (a values file of chart 0.2.0).
      expect(failure('--set', 'gateway.webhooks.enabled=false', '--set-string', `gateway.env.HERALD_WEBHOOK_URLS=${secretUrl}`)).toMatch(/HERALD_WEBHOOK_URLS is no longer accepted/);
      // Beside existingSecret the chart writes no Secret: the URLs would be silently unused.
      const beside = failure('--set-string', `auth.webhookUrls=${secretUrl}`);
      expect(beside).toMatch(/auth\.webhookUrls is set but so is auth\.existingSecret \(herald-auth\).*key webhook-urls/s);
      const owned = ['--set', 'auth.existingSecret=', ...SECRET_ARGS, '--set-string', `auth.vapidPrivateKey=${EXTERNAL_SECRET_VALUES['HERALD_VAPID_PRIVATE_KEY']!}`, '--set-string', `auth.webhookSecret=${EXTERNAL_SECRET_VALUES['HERALD_WEBHOOK_SECRET']!}`];
      const off = failure(...owned, '--set', 'gateway.webhooks.enabled=false', '--set-string', `auth.webhookUrls=${secretUrl}`);
      expect(off).toMatch(/auth\.webhookUrls is set but webhooks are off: set gateway\.webhooks\.enabled: true/);
      // Checked as Herald would, naming the entry by position only.
      const bad = failure(...owned, '--set-string', 'auth.webhookUrls=https://ok.example.com/h ftp://user:s3cr3t-pass@files.example.com');
      expect(bad).toMatch(/auth\.webhookUrls: URL 2 is not an http:\/\/ or https:\/\/ URL/);
      const userinfo = failure(...owned, '--set-string', 'auth.webhookUrls=https://herald:s3cr3t-pass@hooks.example.com/h');
      expect(userinfo).toMatch(/auth\.webhookUrls: URL 1 holds a user name or password, which Herald refuses/);
      const many = failure(...owned, '--set-string', `auth.webhookUrls=${Array.from({ length: 17 }, (_, i) => `https://h${i}.example.com/`).join(' ')}`);
      expect(many).toMatch(/at most 16 webhook URLs, got 17/);
      for (const message of [old, beside, off, bad, userinfo]) expect(message.startsWith('Error: '), message).toBe(true);
      for (const message of [old, beside, off, bad, userinfo]) expect(message).not.toContain('s3cr3t-pass');
      // The webhook secret alone (no switch) is refused as before.
      expect(failure(...owned, '--set', 'gateway.webhooks.enabled=false')).toMatch(/auth\.webhookSecret is set but webhooks are off/);
    });

    it('refuses misplaced keys, secrets in env maps, and half-configured features', () => {
      const misplaced: [string, string][] = [
        ['gateway.env', 'HERALD_VAPID_PUBLIC_KEY'],
        ['gateway.env', 'HERALD_PUSH_AFTER_MS'],
        ['publishApi.env', 'HERALD_INBOX'],
        ['publishApi.env', 'HERALD_EVENTS'],
        ['publishApi.env', 'HERALD_WEBHOOK_URLS'],
        ['publishApi.env', 'HERALD_PRESENCE_TOPICS'],
        ['env', 'HERALD_INBOX'],
        ['env', 'HERALD_VAPID_SUBJECT'],
        ['env', 'HERALD_EVENTS'],
        ['publishApi.env', 'HERALD_VAPID_PRIVATE_KEY'],
        ['gateway.env', 'HERALD_WEBHOOK_SECRET'],
        ['env', 'HERALD_VAPID_PRIVATE_KEY'],
      ];
      for (const [map, key] of misplaced) {
        expect(() => render('--set-string', `${map}.${key}=x`), `${map}.${key}`).toThrow(new RegExp(`at '/${map.replace('.', '/')}': additional properties '${key}' not allowed`));
      }
      expect(() => render('--set-string', 'publishApi.env.HERALD_VAPID_SUBJECT=')).toThrow(/HERALD_VAPID_PUBLIC_KEY is set: set publishApi\.env\.HERALD_VAPID_SUBJECT/);
      expect(() => render('--set-string', 'publishApi.env.HERALD_VAPID_PUBLIC_KEY=')).toThrow(/HERALD_VAPID_SUBJECT is set but HERALD_VAPID_PUBLIC_KEY is not/);
      expect(() => render('--set-string', 'gateway.env.HERALD_EVENTS=false')).toThrow(/HERALD_WEBHOOK_URLS needs HERALD_EVENTS/);
      expect(() => render('--set-string', 'publishApi.env.HERALD_INBOX_MAX=100')).toThrow(/HERALD_INBOX_MAX differs between gateways \("500"\) and the publish API \("100"\)/);
      expect(() => render('--set-string', 'auth.webhookSecret=not-a-whsec')).toThrow(/webhookSecret/);
      // The inbox off: the roles may differ (only gateways with the inbox open its stream beside the publish API).
      render('--set', 'gateway.env.HERALD_INBOX=false', '--set-string', 'publishApi.env.HERALD_INBOX_MAX=100');
    });
  });

  describe.each(SCENARIOS)('$name', ({ args: valueArgs }) => {
    const rendered = setupOnce(() => parseManifests(helm(helmBin(), ['template', 'herald', CHART, '--namespace', 'push', ...valueArgs])));

    it('renders the same manifests every time (GitOps: no random value, no diff between syncs)', () => {
      const render = (): string => helm(helmBin(), ['template', 'herald', CHART, '--namespace', 'push', ...valueArgs]);
      expect(render()).toBe(render());
    });

    it('mounts every NATS file it points the processes at, from a Secret', () => {
      const objs = rendered();
      for (const { component } of ROLES) {
        const dep = deploymentOf(objs, component);
        const c = dep.spec.template.spec.containers[0]!;
        const { env } = resolveEnv(objs, dep, c);
        for (const [k, path] of Object.entries(env).filter(([k]) => /^HERALD_NATS_.*_FILE$/.test(k))) {
          expect(secretFileAt(dep, c, path), `${component}: ${k}=${path}`).toBeDefined();
        }
      }
    });

    it('passes helm lint --strict', () => {
      const out = helm(helmBin(), ['lint', '--strict', CHART, ...valueArgs]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it('renders manifests that are valid Kubernetes objects', () => {
      const objs = rendered();
      expect(objs.length).toBeGreaterThan(0);
      for (const o of objs) validate(o);
      const names = objs.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(new Set(names).size, 'no duplicate objects').toBe(names.length);
    });

    it('puts no secret in any ConfigMap', () => {
      const objs = rendered();
      const secretValues = byKind(objs, 'Secret').flatMap((s) => Object.values((s['data'] ?? {}) as Record<string, string>).map((b) => Buffer.from(b, 'base64').toString('utf8')));
      for (const cm of byKind(objs, 'ConfigMap')) {
        for (const [key, value] of Object.entries((cm['data'] ?? {}) as Record<string, string>)) {
          expect(isSecretish(key), `${cm.metadata.name}: ${key}`).toBe(false);
          expect(SECRET_VALUED.has(key), `${cm.metadata.name}: ${key} may carry credentials`).toBe(false);
          for (const s of secretValues) expect(value.includes(s), `${cm.metadata.name}: ${key} holds a Secret value`).toBe(false);
        }
      }
    });

    describe.each(ROLES)('$component', ({ component, command, schema }) => {
      const get = (): { dep: DeploymentLike; pod: PodSpec; c: Container } => {
        const objs = rendered();
        const dep = deploymentOf(objs, component);
        const pod = dep.spec.template.spec;
        expect(pod.containers).toHaveLength(1);
        return { dep, pod, c: pod.containers[0]! };
      };

      it('starts with an environment its configuration schema accepts', () => {
        const objs = rendered();
        const { dep, c } = get();
        const { env, fromSecret } = resolveEnv(objs, dep, c);
        const keys = new Set(Object.keys(schema.shape).map((k) => `HERALD_${k}`));
        for (const k of Object.keys(env)) expect(keys.has(k), `${k} is not a ${component} setting`).toBe(true);
        expect(() => loadConfig(schema, env)).not.toThrow();
        expect(env['HERALD_NATS_URL'], 'roles meet on NATS').toMatch(/^nats:\/\//);
        for (const k of Object.keys(env)) if (isSecretish(k) || SECRET_VALUED.has(k)) expect(fromSecret.has(k), `${k} comes from a Secret`).toBe(true);
        if (component === 'gateway') {
          const sources = ['HERALD_JWT_SECRET', 'HERALD_JWT_PUBLIC_KEY', 'HERALD_JWKS_URL'].filter((k) => env[k] !== undefined);
          expect(sources, 'exactly one token key source').toHaveLength(1);
        } else {
          expect(fromSecret.has('HERALD_API_KEYS')).toBe(true);
        }
      });

      it('gives the process longer than its drain before it is killed', () => {
        const objs = rendered();
        const { dep, pod, c } = get();
        const { env } = resolveEnv(objs, dep, c);
        const grace = pod.terminationGracePeriodSeconds;
        expect(grace).toBeTypeOf('number');
        const preStop = preStopSeconds(c);
        expect(preStop, 'a preStop pause lets load balancers notice').toBeGreaterThan(0);
        if (component === 'gateway') {
          const window = Number(env['HERALD_DRAIN_WINDOW_MS']);
          const timeout = Number(env['HERALD_DRAIN_TIMEOUT_MS']);
          expect(window).toBeGreaterThan(0);
          expect(grace! * 1000).toBeGreaterThan(window);
          expect(grace! * 1000).toBeGreaterThan(preStop * 1000 + timeout);
        } else {
          // The publish API forces its exit 5 s after SHUTDOWN_TIMEOUT_MS at the latest.
          expect(grace! * 1000).toBeGreaterThan(preStop * 1000 + Number(env['HERALD_SHUTDOWN_TIMEOUT_MS']) + 5000);
        }
      });

      it('probes /healthz and /readyz on the port the process listens on', () => {
        const objs = rendered();
        const { dep, c } = get();
        const { env } = resolveEnv(objs, dep, c);
        expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
        expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
        const live = probePort(c, c.livenessProbe);
        expect(probePort(c, c.readinessProbe)).toBe(live);
        if (c.startupProbe) expect(probePort(c, c.startupProbe)).toBe(live);
        expect(live).toBe(Number(env['HERALD_PORT']));
      });

      it(`runs \`herald ${command}\` from the image's entry point`, () => {
        const { c } = get();
        const argv = [...(c.command ?? image.entrypoint), ...(c.args ?? image.cmd)];
        const cli = argv.find((a) => a.endsWith('/cli.js'));
        expect(cli, `a cli.js in ${argv.join(' ')}`).toBeDefined();
        expect(argv[argv.indexOf(cli!) + 1]).toBe(command);
        const file = imagePathInRepo(cli!, image.workdir);
        expect(file).toBe(repoPath('services/herald/dist/cli.js'));
        expect(existsSync(file), `${file} exists after npm run build`).toBe(true);
      });

      it('runs as a non-root user on a read-only root filesystem', () => {
        const { pod, c } = get();
        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot).toBe(true);
        expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
        expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext?.capabilities?.drop).toContain('ALL');
        // The image's USER is the same uid, so the pod would run as non-root without the chart too.
        expect(image.user.split(':')[0]).toBe(String(pod.securityContext?.runAsUser));
      });

      it('is reachable through a Service and protected by its PDB, HPA and spread', () => {
        const objs = rendered();
        const { dep, pod, c } = get();
        const labels = dep.spec.template.metadata.labels;
        expect(labelsMatch(dep.spec.selector.matchLabels, labels)).toBe(true);
        const services = byKind<ServiceLike>(objs, 'Service').filter((s) => labelsMatch(s.spec.selector, labels));
        expect(services).toHaveLength(1);
        for (const p of services[0]!.spec.ports) {
          const target = p.targetPort;
          expect((c.ports ?? []).some((cp) => cp.name === target || cp.containerPort === target), `Service port ${p.name} → ${String(target)}`).toBe(true);
        }
        for (const pdb of byKind(objs, 'PodDisruptionBudget')) {
          const sel = (pdb['spec'] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
          if (sel['app.kubernetes.io/component'] === component) expect(labelsMatch(sel, labels)).toBe(true);
        }
        const hpa = byKind(objs, 'HorizontalPodAutoscaler').find((h) => (h['spec'] as { scaleTargetRef: { name: string } }).scaleTargetRef.name === dep.metadata.name);
        if (hpa) expect(dep.spec.replicas, 'the HPA owns the replica count').toBeUndefined();
        else expect(dep.spec.replicas).toBeGreaterThan(0);
        expect(pod.topologySpreadConstraints?.length ?? 0).toBeGreaterThan(0);
      });
    });

    it('routes, monitors and network policies point at rendered Services, ports and pods', () => {
      const objs = rendered();
      const services = byKind<ServiceLike>(objs, 'Service');
      const service = (name: string): ServiceLike => {
        const s = services.find((x) => x.metadata.name === name);
        if (!s) throw new Error(`no Service ${name}`);
        return s;
      };
      for (const ing of byKind(objs, 'Ingress')) {
        const spec = ing['spec'] as { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] };
        const paths = spec.rules.flatMap((r) => r.http.paths);
        expect(paths.map((p) => p.path)).toContain('/v1/ws');
        // SSE is served by the gateways too: it must not fall under the publish API's /v1 prefix
        const gatewayOf = (path: string): string | undefined => paths.find((p) => p.path === path)?.backend.service.name;
        expect(gatewayOf('/v1/sse')).toBe(gatewayOf('/v1/ws'));
        for (const p of paths) {
          const s = service(p.backend.service.name);
          expect(s.spec.ports.some((sp) => sp.name === p.backend.service.port.name || sp.port === p.backend.service.port.number)).toBe(true);
        }
        const annotations = ing.metadata.annotations ?? {};
        expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
        expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(3600);
      }
      for (const route of byKind(objs, 'HTTPRoute')) {
        const spec = route['spec'] as { rules: { matches: { path: { value: string } }[]; backendRefs: { name: string; port: number }[] }[] };
        expect(spec.rules.flatMap((r) => r.matches.map((m) => m.path.value))).toContain('/v1/ws');
        const ruleOf = (path: string) => spec.rules.find((r) => r.matches.some((m) => m.path.value === path));
        expect(ruleOf('/v1/sse')?.backendRefs).toEqual(ruleOf('/v1/ws')?.backendRefs);
        for (const ref of spec.rules.flatMap((r) => r.backendRefs)) expect(service(ref.name).spec.ports.some((p) => p.port === ref.port)).toBe(true);
      }
      for (const sm of byKind(objs, 'ServiceMonitor')) {
        const spec = sm['spec'] as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
        const selected = services.filter((s) => labelsMatch(spec.selector.matchLabels, s.metadata.labels ?? {}));
        expect(selected.map((s) => s.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual(['gateway', 'publish-api']);
        for (const e of spec.endpoints) {
          expect(e.path).toBe('/metrics');
          for (const s of selected) expect(s.spec.ports.map((p) => p.name)).toContain(e.port);
        }
      }
      for (const rule of byKind(objs, 'PrometheusRule')) {
        expect(rule['spec']).toEqual(parseYaml(readRepo('deploy/prometheus/alerts.yaml')));
      }
      const pods = byKind<DeploymentLike>(objs, 'Deployment').map((d) => d.spec.template);
      for (const np of byKind(objs, 'NetworkPolicy')) {
        const spec = np['spec'] as { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: { port: string | number }[] }[] };
        const selected = pods.filter((p) => labelsMatch(spec.podSelector.matchLabels, p.metadata.labels));
        expect(selected, `${np.metadata.name} selects one role`).toHaveLength(1);
        const ports = selected[0]!.spec.containers[0]!.ports ?? [];
        for (const p of spec.ingress.flatMap((i) => i.ports)) expect(ports.some((cp) => cp.name === p.port || cp.containerPort === p.port)).toBe(true);
      }
    });
  });
});

describe('helm chart deploy/helm/herald-stack (herald + the official nats chart)', () => {
  const stack = parseYaml(readRepo('deploy/helm/herald-stack/Chart.yaml')) as { dependencies: { name: string; version: string; repository: string; condition?: string }[] };
  const stackValues = parseYaml(readRepo('deploy/helm/herald-stack/values.yaml')) as {
    nats: { enabled: boolean; config: { cluster: { enabled: boolean; replicas: number }; jetstream: { enabled: boolean } } };
    herald: Record<string, unknown> & { nats: { replicas: number } };
  };
  let tmp = '';
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('declares the nats chart with condition nats.enabled, JetStream on, 3 clustered servers', () => {
    const nats = stack.dependencies.find((d) => d.name === 'nats');
    expect(nats?.condition).toBe('nats.enabled');
    expect(nats?.repository).toBe('https://nats-io.github.io/k8s/helm/charts/');
    const herald = stack.dependencies.find((d) => d.name === 'herald');
    expect(herald?.repository).toBe('file://../herald');
    expect(herald?.version).toBe((parseYaml(readRepo('deploy/helm/herald/Chart.yaml')) as { version: string }).version);
    expect(stackValues.nats.enabled).toBe(true);
    expect(stackValues.nats.config.jetstream.enabled).toBe(true);
    expect(stackValues.nats.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(stackValues.herald.nats.replicas).toBe(stackValues.nats.config.cluster.replicas);
  });

  it("points Herald at the subchart's NATS service with HERALD_NATS_REPLICAS=3", () => {
    // The stack itself needs `helm dependency build` (network); its herald values are
    // rendered through the herald chart, as the subchart would be.
    tmp = mkdtempSync(join(tmpdir(), 'herald-stack-'));
    const file = join(tmp, 'herald-values.yaml');
    writeFileSync(file, stringifyYaml(stackValues.herald));
    helm(helmBin(), ['lint', '--strict', CHART, '-f', file, ...SECRET_ARGS]);
    const objs = parseManifests(helm(helmBin(), ['template', 'demo', CHART, '-f', file, ...SECRET_ARGS]));
    for (const cm of byKind(objs, 'ConfigMap')) {
      expect(cm['data']).toMatchObject({ HERALD_NATS_URL: 'nats://demo-nats:4222', HERALD_NATS_REPLICAS: '3' });
    }
  });
});
