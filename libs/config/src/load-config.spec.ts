import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidEnvironmentError, loadGatewayConfig, loadMonitorConfig, loadWorkerConfig } from './load-config.js';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    const config = loadGatewayConfig({});
    assert.deepEqual(config, {
      http: { host: '127.0.0.1', port: 3000 },
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'conveyor', clusterNodes: null, durability: { replicas: 0, timeoutMs: 1000 } },
      logLevel: 'info',
      metrics: true,
      idempotencyTtlMs: 86_400_000,
      demoTasks: true,
      monitor: { port: 3001 },
      auth: null,
      corsOrigins: ['http://localhost:3000', 'http://127.0.0.1:3000'],
      tracing: null,
    });
    assert.ok(Object.isFrozen(config.http));
  });

  it('turns tracing on with an OTLP endpoint, naming each service, and refuses what it cannot send', () => {
    assert.equal(loadWorkerConfig({}).tracing, null);
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' };
    assert.deepEqual(loadGatewayConfig(endpoint).tracing, { serviceName: 'conveyor-gateway', scheduleDelayMs: null });
    assert.deepEqual(loadWorkerConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otel.example.com/v1/traces', OTEL_SERVICE_NAME: 'jobs', OTEL_BSP_SCHEDULE_DELAY: '200' }).tracing, {
      serviceName: 'jobs',
      scheduleDelayMs: 200,
    });
    assert.throws(
      () => loadWorkerConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }),
      /OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/json, the one OTLP protocol Conveyor sends/,
    );
    assert.throws(() => loadGatewayConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT: must be a URL address/);
  });

  it('converts numbers and lists', () => {
    const config = loadWorkerConfig({ WORKER_CONCURRENCY: '3', WORKER_QUEUES: 'demo', HTTP_TASK_ALLOWED_HOSTS: 'A.example, b.example ', WORKER_HEALTH_PORT: '0' });
    assert.equal(config.concurrency, 3);
    assert.deepEqual(config.queues, ['demo']);
    assert.deepEqual(config.httpTask.allowedHosts, [
      { host: 'a.example', port: null },
      { host: 'b.example', port: null },
    ]);
    assert.deepEqual(config.health, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(loadWorkerConfig({}).queues, ['demo', 'http', 'schedules']);
    assert.equal(loadWorkerConfig({ CONVEYOR_METRICS: 'false' }).metrics, false);
    assert.throws(() => loadWorkerConfig({ CONVEYOR_METRICS: 'off' }), /CONVEYOR_METRICS: must be one of the following values: true, false/);
  });

  it('names every bad variable in one message', () => {
    assert.throws(
      () => loadGatewayConfig({ GATEWAY_PORT: '70000', REDIS_URL: 'http://x', CONVEYOR_PREFIX: 'Bad Prefix' }),
      (error: Error) =>
        error instanceof InvalidEnvironmentError &&
        /GATEWAY_PORT: must not be greater than 65535/.test(error.message) &&
        /REDIS_URL/.test(error.message) &&
        /CONVEYOR_PREFIX/.test(error.message),
    );
  });

  it('reads the egress lists and the demo switch', () => {
    const config = loadWorkerConfig({ HTTP_TASK_ALLOWED_HOSTS: 'localhost:8080', EGRESS_ALLOW_PRIVATE: '127.0.0.1,[::1]:8080', CONVEYOR_DEMO_TASKS: 'false' });
    assert.deepEqual(config.httpTask.allowedHosts, [{ host: 'localhost', port: 8080 }]);
    assert.deepEqual(config.egress.allowPrivate, [
      { address: '127.0.0.1', prefix: 32, port: null },
      { address: '::1', prefix: 128, port: 8080 },
    ]);
    assert.equal(config.demoTasks, false);
    assert.equal(loadWorkerConfig({}).demoTasks, true);
    assert.equal(loadGatewayConfig({ CONVEYOR_DEMO_TASKS: 'false' }).demoTasks, false);
  });

  it('refuses to start on a bad egress entry, quoting it', () => {
    assert.throws(
      () => loadWorkerConfig({ EGRESS_ALLOW_PRIVATE: '10.0.0.0/8, localhost, 10.0.0.0/33', HTTP_TASK_ALLOWED_HOSTS: 'a.example:99999', CONVEYOR_DEMO_TASKS: 'no' }),
      (error: Error) =>
        error instanceof InvalidEnvironmentError &&
        /EGRESS_ALLOW_PRIVATE: must list IPs or CIDRs with an optional :port \(IPv6 in brackets then\); not: "localhost", "10\.0\.0\.0\/33"/.test(error.message) &&
        /HTTP_TASK_ALLOWED_HOSTS: .*not: "a\.example:99999"/.test(error.message) &&
        /CONVEYOR_DEMO_TASKS/.test(error.message),
    );
  });

  it('refuses a queue no task uses', () => {
    assert.throws(() => loadWorkerConfig({ WORKER_QUEUES: 'demo,nope' }), /no task uses queue nope/);
  });

  it('reads Redis Cluster seed nodes, and refuses a list that is not host:port', () => {
    assert.deepEqual(loadGatewayConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001' }).redis.clusterNodes, [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b', port: 7001 },
    ]);
    assert.equal(loadGatewayConfig({}).redis.clusterNodes, null);
    assert.throws(() => loadGatewayConfig({ REDIS_CLUSTER_NODES: '10.0.0.1' }), /REDIS_CLUSTER_NODES: must be a comma-separated list of host:port/);
  });

  it('turns auth on with keys, and refuses an exposed HOST without keys or without MONITOR_URL', () => {
    const keys = { CONVEYOR_ADMIN_KEY: 'a'.repeat(24), CONVEYOR_TOKEN_SECRET: 's'.repeat(32) };
    assert.deepEqual(loadGatewayConfig({ ...keys, CONVEYOR_API_KEYS: `acme:${'k'.repeat(24)}` }).auth, {
      adminKey: 'a'.repeat(24),
      tenantKeys: [{ tenant: 'acme', key: 'k'.repeat(24) }],
      tokenSecret: 's'.repeat(32),
    });
    assert.throws(() => loadGatewayConfig({ HOST: '0.0.0.0' }), /HOST=0\.0\.0\.0 .*CONVEYOR_ADMIN_KEY/);
    assert.throws(() => loadGatewayConfig({ CONVEYOR_ADMIN_KEY: 'a'.repeat(24) }), /CONVEYOR_TOKEN_SECRET: required/);
    assert.throws(() => loadGatewayConfig({ ...keys, HOST: '0.0.0.0' }), /MONITOR_URL: required when HOST=0\.0\.0\.0/);
    assert.equal(loadMonitorConfig({ ...keys, HOST: '0.0.0.0' }).auth?.adminKey, 'a'.repeat(24), 'the monitor needs no MONITOR_URL');
    assert.throws(() => loadGatewayConfig({ CONVEYOR_ADMIN_KEY: 'short' }), /CONVEYOR_ADMIN_KEY: must be at least 24 characters/);
    assert.deepEqual(loadGatewayConfig({ CONVEYOR_CORS_ORIGINS: 'https://app.example.com, http://localhost:8080/' }).corsOrigins, ['https://app.example.com', 'http://localhost:8080']);
    assert.throws(() => loadGatewayConfig({ CONVEYOR_CORS_ORIGINS: '*,https://x.example/path' }), /CONVEYOR_CORS_ORIGINS: .*not: "\*", "https:\/\/x\.example\/path"/);
  });
});
