// A server's own memory, read over the inspector of a process started with `inspectAnyPort` in its
// environment: a full garbage collection first, then `process.memoryUsage()` inside the process.
import type { ManagedProcess } from '@conveyor/launcher';

/** The environment that opens a process's inspector on a free loopback port (it says where on stderr). */
export const inspectAnyPort = { NODE_OPTIONS: '--inspect=127.0.0.1:0' };

export interface Memory {
  rss: number;
  heapUsed: number;
}

/** The process's RSS and used heap right after a full garbage collection. */
export async function memoryAfterGc(server: ManagedProcess): Promise<Memory> {
  const line = await server.waitForLine((l) => l.includes('Debugger listening on ws://'), 10_000);
  const socket = new WebSocket(line.slice(line.indexOf('ws://')).trim());
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const pending = new Map<number, (result: unknown) => void>();
  socket.onmessage = (message) => {
    const { id, result } = JSON.parse(String(message.data)) as { id?: number; result: unknown };
    if (id !== undefined) pending.get(id)?.(result);
  };
  let lastId = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      pending.set(++lastId, resolve);
      socket.send(JSON.stringify({ id: lastId, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const answer = (await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as { result: { value: string } };
    const { rss, heapUsed } = JSON.parse(answer.result.value) as Memory;
    return { rss, heapUsed };
  } finally {
    socket.close();
  }
}
