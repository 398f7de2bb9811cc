import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { onFreePorts } from './free-port.js';
import { RedisServer } from './redis-server.js';

describe('free ports', () => {
  it('starts again on other ports when a chosen one was taken before the bind, and only then', async () => {
    const tried: number[][] = [];
    const started = await onFreePorts(2, async (ports) => {
      tried.push(ports);
      if (tried.length === 1) throw new Error('Could not create server TCP listening socket: bind: Address already in use');
      return ports;
    });
    assert.equal(tried.length, 2);
    assert.deepEqual(started, tried[1]);

    let calls = 0;
    const other = onFreePorts(1, async () => {
      calls++;
      throw new Error('Configuration refused');
    });
    await assert.rejects(other, /Configuration refused/);
    assert.equal(calls, 1);
  });

  it('starts a redis-server on a port taken by another process by choosing again', async () => {
    // The first choice is taken as soon as it is chosen, as another process may take it.
    const squatter = createServer();
    let squatted = false;
    const redis = await onFreePorts(1, async ([port]) => {
      if (!squatted) {
        squatted = true;
        await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
      }
      return RedisServer.start({ port });
    });
    try {
      assert.notEqual(redis.port, (squatter.address() as { port: number }).port);
    } finally {
      await redis.stop();
      squatter.close();
    }
  });
});
