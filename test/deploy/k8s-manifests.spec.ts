import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { catalogQueues } from '@conveyor/contracts';
import { loadGatewayConfig, loadMonitorConfig, loadWorkerConfig } from '@conveyor/config';

// No cluster can run here: every manifest under deploy/k8s is parsed, validated against the
// Kubernetes (and KEDA) schemas, and its references to the other manifests and to the services'
// configuration are checked. Each check returns its problems, so that the last tests can show that a
// broken manifest is caught.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const k8s = join(root, 'deploy/k8s');
const base = join(k8s, 'base');
const overlay = join(k8s, 'overlays/example');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
type Container = { name: string; image: string; ports?: { name?: string; containerPort: number }[]; env?: any[]; envFrom?: any[]; livenessProbe?: any; readinessProbe?: any; resources?: any };
interface Kustomization {
  resources?: string[];
  patches?: { path: string }[];
  namespace?: string;
  images?: { name: string }[];
  secretGenerator?: { name: string; envs?: string[] }[];
}

/** The schema classes by `apiVersion/kind`: a kind without one fails the validation. */
const models = new Map<string, new (data: unknown) => { validate(): void }>();
for (const group of [core, apps, networking, policy, keda]) {
  for (const model of Object.values(group) as any[]) {
    if (typeof model === 'function' && model.apiVersion && model.kind) models.set(`${model.apiVersion}/${model.kind}`, model);
  }
}

const readYaml = (file: string): unknown[] =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${relative(root, file)}: ${document.errors.map((error) => error.message).join('; ')}`);
    return document.toJS();
  });
const kustomization = (dir: string) => readYaml(join(dir, 'kustomization.yaml'))[0] as Kustomization;

/** Every object a kustomization lists, its bases' first, as files (not built: no kustomize here). */
function resourcesOf(dir: string): { file: string; object: Obj }[] {
  return (kustomization(dir).resources ?? []).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return resourcesOf(path);
    return readYaml(path).map((object) => ({ file: path, object: object as Obj }));
  });
}

const baseObjects = resourcesOf(base).map(({ object }) => object);
const overlayKustomization = kustomization(overlay);
const patches = (overlayKustomization.patches ?? []).flatMap(({ path }) => readYaml(join(overlay, path)) as Obj[]);
const namespace = overlayKustomization.namespace;
const ofKind = <T = Obj>(objects: Obj[], kind: string) => objects.filter((object) => object.kind === kind) as T[] & Obj[];
const containersOf = (deployment: Obj): Container[] => deployment.spec.template.spec.containers;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);
const podsOf = (objects: Obj[], selector: Record<string, string>) =>
  ofKind(objects, 'Deployment').filter((deployment) => matches(selector, deployment.spec.template.metadata.labels));

/** The keys of the Secrets the overlay generates, read from the committed `<env file>.example`. */
function generatedSecrets(): Map<string, Map<string, string>> {
  const secrets = new Map<string, Map<string, string>>();
  for (const generator of overlayKustomization.secretGenerator ?? []) {
    const entries = (generator.envs ?? []).flatMap((file) =>
      readFileSync(join(overlay, `${file}.example`), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]),
    );
    secrets.set(generator.name, new Map(entries));
  }
  return secrets;
}

/** A ConfigMap with the overlay's patch of it applied (data keys merge). */
const configMap = (objects: Obj[], name: string) => {
  const patched = (list: Obj[]) => ofKind(list, 'ConfigMap').find((object) => object.metadata.name === name)?.data;
  const data = patched(objects);
  return data && { ...data, ...patched(patches) };
};

/** The environment a container starts with: its ConfigMaps, its values and the example Secret's values. */
function environmentOf(objects: Obj[], container: Container): Record<string, string> {
  const secrets = generatedSecrets();
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) Object.assign(env, configMap(objects, source.configMapRef?.name) ?? {});
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    const value = ref ? secrets.get(ref.name)?.get(ref.key) : variable.value;
    if (value !== undefined && value !== '') env[variable.name] = value;
  }
  return env;
}

function schemaProblems(objects: Obj[]): string[] {
  return objects.flatMap((object) => {
    const model = models.get(`${object.apiVersion}/${object.kind}`);
    if (!model) return [`${object.kind} ${object.metadata?.name}: no schema for ${object.apiVersion}`];
    try {
      new model(object).validate();
      return [];
    } catch (error) {
      return [`${object.kind} ${object.metadata.name}: ${(error as Error).message}`];
    }
  });
}

function deploymentProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const configMaps = new Set(ofKind(objects, 'ConfigMap').map((object) => object.metadata.name));
  const secrets = generatedSecrets();
  for (const deployment of ofKind(objects, 'Deployment')) {
    const name = deployment.metadata.name;
    if (!matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)) problems.push(`${name}: its selector misses its pods`);
    for (const container of containersOf(deployment)) {
      const ports = container.ports ?? [];
      for (const kind of ['livenessProbe', 'readinessProbe'] as const) {
        const probe = container[kind];
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
        if (port === undefined) problems.push(`${name}: no ${kind}`);
        else if (!ports.some((declared) => declared.name === port || declared.containerPort === port)) problems.push(`${name}: ${kind} on undeclared port ${port}`);
      }
      if (!container.resources?.requests?.cpu || !container.resources?.requests?.memory) problems.push(`${name}: no cpu and memory requests`);
      for (const source of container.envFrom ?? []) {
        if (!configMaps.has(source.configMapRef?.name)) problems.push(`${name}: no ConfigMap ${source.configMapRef?.name}`);
      }
      for (const variable of container.env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref && !secrets.get(ref.name)?.has(ref.key)) problems.push(`${name}: Secret ${ref.name} has no key ${ref.key}`);
      }
    }
  }
  return problems;
}

/** Each service's configuration loads from what its container is given, on the ports it declares. */
function configurationProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const deployment = (component: string) => ofKind(objects, 'Deployment').find((object) => object.spec.template.metadata.labels['app.kubernetes.io/component'] === component);
  const port = (container: Container, name: string) => container.ports?.find((declared) => declared.name === name)?.containerPort;
  const loaders = { gateway: loadGatewayConfig, monitor: loadMonitorConfig, worker: loadWorkerConfig };
  for (const [component, load] of Object.entries(loaders)) {
    const found = deployment(component);
    if (!found) {
      problems.push(`no ${component} Deployment`);
      continue;
    }
    const container = containersOf(found)[0];
    let config: ReturnType<typeof load>;
    try {
      config = load(environmentOf(objects, container));
    } catch (error) {
      problems.push(`${component}: ${(error as Error).message}`);
      continue;
    }
    if ('http' in config && config.http.port !== port(container, 'http')) problems.push(`${component}: listens on ${config.http.port}, declares ${port(container, 'http')}`);
    if ('shutdownGraceMs' in config) {
      if (config.health?.port !== port(container, 'health')) problems.push(`worker: health on ${config.health?.port}, declares ${port(container, 'health')}`);
      const podGraceMs = (found.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      if (podGraceMs <= config.shutdownGraceMs) problems.push(`worker: terminationGracePeriodSeconds ${podGraceMs / 1000} s is not above its shutdown grace ${config.shutdownGraceMs} ms`);
      if (found.spec.replicas !== undefined) problems.push('worker: replicas set, though KEDA owns them');
    }
  }
  return problems;
}

function serviceProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const services = ofKind(objects, 'Service');
  for (const service of services) {
    const pods = podsOf(objects, service.spec.selector);
    if (pods.length === 0) problems.push(`Service ${service.metadata.name}: selects no Deployment's pods`);
    for (const { targetPort } of service.spec.ports) {
      const declared = pods.flatMap(containersOf).flatMap((container) => container.ports ?? []);
      if (!declared.some((port) => port.name === targetPort || port.containerPort === targetPort)) problems.push(`Service ${service.metadata.name}: targetPort ${targetPort} undeclared`);
    }
  }
  for (const budget of ofKind(objects, 'PodDisruptionBudget')) {
    const pods = podsOf(objects, budget.spec.selector.matchLabels);
    if (pods.length === 0) problems.push(`PodDisruptionBudget ${budget.metadata.name}: selects no Deployment's pods`);
    for (const deployment of pods) {
      if (budget.spec.minAvailable !== undefined && deployment.spec.replicas !== undefined && budget.spec.minAvailable >= deployment.spec.replicas) {
        problems.push(`PodDisruptionBudget ${budget.metadata.name}: minAvailable ${budget.spec.minAvailable} blocks every drain of ${deployment.spec.replicas} replicas`);
      }
    }
  }
  for (const ingress of ofKind(objects, 'Ingress')) {
    for (const path of ingress.spec.rules.flatMap((rule: any) => rule.http.paths)) {
      const { name, port } = path.backend.service;
      const service = services.find((candidate) => candidate.metadata.name === name);
      if (!service?.spec.ports.some((declared: any) => declared.name === port.name || declared.port === port.number)) problems.push(`Ingress ${ingress.metadata.name}: no Service port ${name}:${port.name ?? port.number}`);
    }
  }
  return problems;
}

/** The ScaledObject scales the worker on `runnable` of every deployed queue, read from the gateway with the admin key. */
function autoscalingProblems(objects: Obj[]): string[] {
  const problems: string[] = [];
  const [scaled] = ofKind(objects, 'ScaledObject');
  if (!scaled) return ['no ScaledObject'];
  const target = ofKind(objects, 'Deployment').find((deployment) => deployment.metadata.name === scaled.spec.scaleTargetRef.name);
  if (target?.spec.template.metadata.labels['app.kubernetes.io/component'] !== 'worker') problems.push('ScaledObject: does not target the worker Deployment');
  if (!(scaled.spec.minReplicaCount >= 1)) problems.push('ScaledObject: workers must not scale to zero (schedule ticks, recovery, retention)');
  const authentications = ofKind(objects, 'TriggerAuthentication');
  const secrets = generatedSecrets();
  const scaledQueues: string[] = [];
  for (const trigger of scaled.spec.triggers) {
    const { url, valueLocation, authMode, targetValue } = trigger.metadata;
    if (trigger.type !== 'metrics-api' || valueLocation !== 'runnable' || authMode !== 'bearer' || !(Number(targetValue) > 0)) {
      problems.push(`ScaledObject trigger ${trigger.name}: not metrics-api on runnable with a bearer and a target`);
    }
    const parsed = new URL(url);
    const [serviceName, serviceNamespace] = parsed.hostname.split('.');
    const service = ofKind(objects, 'Service').find((candidate) => candidate.metadata.name === serviceName);
    const gateway = service && podsOf(objects, service.spec.selector).some((pod) => pod.metadata.name === 'conveyor-gateway');
    if (!gateway || serviceNamespace !== namespace || !service.spec.ports.some((port: any) => String(port.port) === parsed.port)) {
      problems.push(`ScaledObject trigger ${trigger.name}: ${url} is not the gateway Service in namespace ${namespace}`);
    }
    const queue = /^\/v1\/queues\/([a-z0-9-]+)$/.exec(parsed.pathname)?.[1];
    if (!queue || !catalogQueues.includes(queue)) problems.push(`ScaledObject trigger ${trigger.name}: ${parsed.pathname} names no queue`);
    else scaledQueues.push(queue);
    const authentication = authentications.find((candidate) => candidate.metadata.name === trigger.authenticationRef?.name);
    const token = authentication?.spec.secretTargetRef?.find((ref: any) => ref.parameter === 'token');
    if (!token || !secrets.get(token.name)?.has(token.key) || token.key !== 'CONVEYOR_ADMIN_KEY') {
      problems.push(`ScaledObject trigger ${trigger.name}: its TriggerAuthentication gives no admin key as token`);
    }
  }
  // Demo tasks are off in deployments; every other queue scales the workers.
  const unscaled = catalogQueues.filter((queue) => queue !== 'demo' && !scaledQueues.includes(queue));
  if (unscaled.length > 0) problems.push(`ScaledObject: no trigger for queue ${unscaled.join(', ')}`);
  return problems;
}

const allProblems = (objects: Obj[]) => [...schemaProblems(objects), ...deploymentProblems(objects), ...configurationProblems(objects), ...serviceProblems(objects), ...autoscalingProblems(objects)];

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('lists every YAML file in a kustomization, and each parses', () => {
    const files = readdirSync(k8s, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.yaml')).map((file) => join(k8s, file));
    const listed = new Set<string>();
    for (const dir of [base, overlay]) {
      const { resources = [], patches: patchFiles = [] } = kustomization(dir);
      listed.add(join(dir, 'kustomization.yaml'));
      for (const entry of [...resources, ...patchFiles.map(({ path }) => path)]) {
        assert.ok(existsSync(join(dir, entry)), `${relative(root, dir)} lists ${entry}, which does not exist`);
        listed.add(join(dir, entry));
      }
    }
    assert.deepEqual(files.filter((file) => !listed.has(file)).map((file) => relative(root, file)), [], 'files no kustomization uses');
    for (const file of files) assert.ok(readYaml(file).length > 0, relative(root, file));
    assert.ok(baseObjects.length >= 10, `${baseObjects.length} objects`);
  });

  it('validates every object and patch against the Kubernetes and KEDA schemas', () => {
    // The overlay's objects are the base's and its own.
    assert.deepEqual(schemaProblems([...resourcesOf(overlay).map(({ object }) => object), ...patches]), []);
    assert.deepEqual(
      [...new Set(baseObjects.map((object) => object.kind))].sort(),
      ['ConfigMap', 'Deployment', 'Ingress', 'PodDisruptionBudget', 'ScaledObject', 'Service', 'TriggerAuthentication'],
    );
  });

  it('gives each Deployment probes on declared ports, requests, its ConfigMap and Secret keys that exist', () => {
    assert.deepEqual(deploymentProblems(baseObjects), []);
    assert.deepEqual(ofKind(baseObjects, 'Deployment').map((deployment) => deployment.metadata.name).sort(), ['conveyor-gateway', 'conveyor-monitor', 'conveyor-worker']);
  });

  it('starts each service with the configuration its container gets, on the ports it declares', () => {
    assert.deepEqual(configurationProblems(baseObjects), []);
  });

  it('selects pods and ports that exist from Services, PodDisruptionBudgets and the Ingress', () => {
    assert.deepEqual(serviceProblems(baseObjects), []);
    assert.equal(ofKind(baseObjects, 'PodDisruptionBudget').length, 3);
  });

  it('scales the workers with KEDA on the runnable depth of every queue, with the admin key', () => {
    assert.deepEqual(autoscalingProblems(baseObjects), []);
  });

  it('gives every image a place in the overlay', () => {
    const images = ofKind(baseObjects, 'Deployment').flatMap(containersOf).map((container) => container.image.split(':')[0]);
    assert.deepEqual(images.filter((image) => !overlayKustomization.images?.some(({ name }) => name === image)), []);
  });

  /** A copy of the manifests with one change made by `edit`. */
  const broken = (edit: (objects: Obj[]) => void) => {
    const copy = structuredClone(baseObjects);
    edit(copy);
    return allProblems(copy);
  };
  const named = (objects: Obj[], kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name)!;
  const worker = (objects: Obj[]) => containersOf(named(objects, 'Deployment', 'conveyor-worker'))[0];

  it('fails when a manifest breaks', () => {
    const cases: [string, (objects: Obj[]) => void, RegExp][] = [
      ['a port as text', (o) => (worker(o).ports![0].containerPort = '9000' as never), /must be integer/],
      ['an unknown kind', (o) => (o[0].apiVersion = 'v2'), /no schema/],
      ['a probe on another port', (o) => (worker(o).readinessProbe.httpGet.port = 'metrics'), /readinessProbe on undeclared port/],
      ['a Service selecting nothing', (o) => (named(o, 'Service', 'conveyor-gateway').spec.selector['app.kubernetes.io/component'] = 'api'), /selects no Deployment/],
      ['a missing Secret key', (o) => (worker(o).env!.find((v) => v.name === 'REDIS_URL').valueFrom.secretKeyRef.key = 'REDIS'), /has no key REDIS/],
      ['a short termination grace', (o) => (named(o, 'Deployment', 'conveyor-worker').spec.template.spec.terminationGracePeriodSeconds = 20), /not above its shutdown grace/],
      ['a health port apart', (o) => (worker(o).env!.find((v) => v.name === 'WORKER_HEALTH_PORT').value = '9100'), /health on 9100/],
      ['an invalid variable', (o) => (worker(o).env!.find((v) => v.name === 'WORKER_CONCURRENCY').value = 'many'), /WORKER_CONCURRENCY/],
      ['another scale target', (o) => (named(o, 'ScaledObject', 'conveyor-worker').spec.scaleTargetRef.name = 'conveyor-gateway'), /does not target the worker/],
      ['a trigger on waiting only', (o) => (named(o, 'ScaledObject', 'conveyor-worker').spec.triggers[0].metadata.valueLocation = 'counts.queued'), /not metrics-api on runnable/],
      ['an Ingress to a missing port', (o) => (named(o, 'Ingress', 'conveyor').spec.rules[0].http.paths[0].backend.service.port.name = 'web'), /no Service port/],
    ];
    for (const [label, edit, problem] of cases) {
      const problems = broken(edit);
      assert.ok(problems.some((found) => problem.test(found)), `${label}: ${JSON.stringify(problems)}`);
    }
  });
});
