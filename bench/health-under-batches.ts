// Responsiveness while heavy batches arrive: `GET /health` every 20 ms while 3 clients each send 5
// batches of 1,000 demo.noop submissions with wide inputs (40 fields each, a body of about 1 MiB),
// through Conveyor's gateway and through the plain node:http + BullMQ `addBulk` server
// (./plain-gateway.ts). A gateway that validates a whole batch in one go leaves /health waiting.
import { startService, type RedisServer } from '@conveyor/launcher';
import { figure, percentiles } from './common.js';
import { startPlainGateway } from './plain-gateway.js';

const senders = 3;
const batchesPerSender = 5;
const batchSize = 1000;
const probeEveryMs = 20;
const wideInput = { payload: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}`, `value ${i}`])) };
const batchBody = JSON.stringify({ executions: Array.from({ length: batchSize }, () => ({ task: 'demo.noop', input: wideInput })) });

export async function healthUnderBatches(redis: RedisServer): Promise<void> {
  const plainServer = await startPlainGateway(redis.url, 'plain-health');
  const plain = await probeWhileSending(plainServer.url, '/batch').finally(() => plainServer.process.stop());
  const gateway = await startService('gateway', { REDIS_URL: redis.url, CONVEYOR_PREFIX: 'conveyor-health', GATEWAY_PORT: '0', LOG_LEVEL: 'warn' });
  const conveyor = await probeWhileSending(gateway.url!, '/v1/executions/batch').finally(() => gateway.process.stop());
  console.log(`\n/health while ${senders} clients send ${batchesPerSender} batches each of ${batchSize} wide submissions (${(batchBody.length / 1024).toFixed(0)} KiB a body)`);
  console.log(`  plain node:http + addBulk     ${line(plain)}`);
  console.log(`  Conveyor gateway              ${line(conveyor)}`);
  figure('health-under-batches-p99', conveyor.p99 / plain.p99, 'node:http + addBulk', `p99 ${conveyor.p99.toFixed(0)} ms`, `p99 ${plain.p99.toFixed(0)} ms`);
}

interface Probed {
  p50: number;
  p99: number;
  max: number;
  batchesPerSecond: number;
}

function line({ p50, p99, max, batchesPerSecond }: Probed): string {
  return `/health p50 ${p50.toFixed(1).padStart(6)} ms   p99 ${p99.toFixed(1).padStart(6)} ms   max ${max.toFixed(0).padStart(5)} ms   (${batchesPerSecond.toFixed(1)} batches/s)`;
}

async function probeWhileSending(url: string, batchPath: string): Promise<Probed> {
  const latencies: number[] = [];
  let sending = true;
  const probing = (async () => {
    while (sending) {
      const started = performance.now();
      await fetch(`${url}/health`).then((response) => response.arrayBuffer());
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, probeEveryMs));
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: senders }, async () => {
      for (let i = 0; i < batchesPerSender; i++) {
        const response = await fetch(`${url}${batchPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batchBody });
        if (response.status !== 202) throw new Error(`${batchPath} answered ${response.status}: ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sending = false;
  await probing;
  return { ...percentiles(latencies), max: Math.max(...latencies), batchesPerSecond: (senders * batchesPerSender) / seconds };
}
