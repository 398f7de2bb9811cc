// `npm start`: Redis (embedded when none is configured or running), gateway, one worker and the
// monitor, with their logs in one terminal. Ctrl-C stops everything cleanly.
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { hasRedisServer, RedisServer, startService, type ServiceName, type ServiceProcess } from '@conveyor/launcher';
import { requireSupportedNode } from '@conveyor/service';

requireSupportedNode('npm start');

const defaultRedisPort = 6379;
const colors: Record<string, string> = { redis: '31', gateway: '36', worker: '33', monitor: '35' };

function print(source: string, line: string): void {
  const name = source.padEnd(7);
  const label = process.stdout.isTTY ? `\x1b[${colors[source] ?? '0'}m${name}\x1b[0m` : name;
  process.stdout.write(`${label} │ ${readable(line)}\n`);
}

/** A pino JSON line as `level message key=value …`; anything else as it came. */
function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { level, msg, time: _time, service: _service, name: _name, pid: _pid, hostname: _host, context, ...rest } = JSON.parse(line);
    const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
    const extra = Object.entries(rest).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    return [levels[level] ?? level, context ? `[${context}]` : '', msg, ...extra].filter(Boolean).join(' ');
  } catch {
    return line;
  }
}

function answersOn(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: 1000 });
    socket.once('connect', () => {
      socket.write('PING\r\n');
      socket.once('data', (data) => {
        socket.destroy();
        done(data.toString().startsWith('+PONG') || data.toString().startsWith('-NOAUTH'));
      });
    });
    socket.once('error', () => done(false));
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
  });
}

async function redisUrl(): Promise<{ url: string; embedded: RedisServer | null }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, embedded: null };
  if (await answersOn(defaultRedisPort)) return { url: `redis://127.0.0.1:${defaultRedisPort}`, embedded: null };
  if (!hasRedisServer()) {
    process.stderr.write(
      'Conveyor needs Redis 7. Nothing answers on 127.0.0.1:6379 and there is no redis-server to start.\n' +
        'Install one (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
        'or point REDIS_URL at a running Redis, then run npm start again.\n',
    );
    process.exit(1);
  }
  const dataDir = resolve('.data/redis');
  const embedded = await RedisServer.start({ port: defaultRedisPort, dataDir, onLine: (line) => print('redis', line) });
  print('redis', `embedded redis-server on port ${defaultRedisPort}, append-only file in ${dataDir}`);
  return { url: embedded.url, embedded };
}

const { url, embedded } = await redisUrl();
const services: ServiceProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  await Promise.all(services.map((service) => service.process.stop('SIGTERM')));
  await embedded?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const start = (name: ServiceName, env: Record<string, string> = {}) =>
    startService(name, { REDIS_URL: url, ...env }, { onLine: (line) => print(name, line) });
  // Settled, not raced: when one fails, the other has finished starting and is stopped with the rest.
  const [worker, monitor] = await Promise.allSettled([start('worker'), start('monitor')]);
  for (const outcome of [worker, monitor]) if (outcome.status === 'fulfilled') services.push(outcome.value);
  if (worker.status === 'rejected') throw worker.reason;
  if (monitor.status === 'rejected') throw monitor.reason;
  // The gateway tells the dashboard where the monitor listens: its real port, also when MONITOR_PORT is 0.
  const gateway = await start('gateway', { MONITOR_PORT: new URL(monitor.value.url!).port });
  services.unshift(gateway);
  for (const service of services) {
    void service.process.exit().then((code) => {
      if (stopping) return;
      print(service.name, `exited with code ${code}; stopping everything`);
      void stopAll(1);
    });
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  await stopAll(1);
}

const [gateway, , monitor] = services;
process.stdout.write(`
  Conveyor is running (Redis at ${url})
    Dashboard     ${gateway.url}/ui/
    REST API      ${gateway.url}/v1/executions
    Bull Board    ${gateway.url}/admin/queues
    Health        ${gateway.url}/health/ready
    Monitor       ${monitor.url}   (socket.io)
  Press Ctrl-C to stop.

`);
