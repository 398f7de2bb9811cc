// The minimal relay the monitor is measured against: a plain socket.io server that SUBSCRIBEs to one
// Redis channel (ioredis) and emits each message, parsed, to the room named by its `executionId`
// (one room broadcast: socket.io encodes it once for all the room's sockets). A client joins a room
// with `subscribe` `{ room }`. It runs as a process of its own, as the monitor does.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { startBaseline, type BaselineServer } from './common.js';

const entry = fileURLToPath(import.meta.url);

/** Starts the relay as a child process (`env`: more of its environment) and resolves once it listens. */
export function startMinimalRelay(redisUrl: string, channel: string, env: Record<string, string> = {}): Promise<BaselineServer> {
  return startBaseline('minimal relay', entry, { ...env, REDIS_URL: redisUrl, RELAY_CHANNEL: channel });
}

async function serve(redisUrl: string, channel: string): Promise<void> {
  const http = createServer();
  const io = new Server(http);
  io.on('connection', (socket) => {
    socket.on('subscribe', (request: { room: string }, ack?: (answer: { ok: true }) => void) => {
      void socket.join(request.room);
      ack?.({ ok: true });
    });
  });
  const subscriber = new Redis(redisUrl);
  subscriber.on('message', (_channel: string, message: string) => {
    const event = JSON.parse(message) as { type: string; executionId: string };
    io.to(event.executionId).emit(event.type, event);
  });
  await subscriber.subscribe(channel);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'ready', url: `http://127.0.0.1:${port}` }));
  process.once('SIGTERM', () => {
    subscriber.disconnect();
    void io.close();
  });
}

if (process.argv[1] === entry) await serve(process.env.REDIS_URL!, process.env.RELAY_CHANNEL!);
