import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConveyorApiError, ConveyorClient } from '@conveyor/client';
import type { ConveyorEvent, ExecutionView } from '@conveyor/contracts';
import { Stack } from '@conveyor/testing';

describe('the client SDK', () => {
  let stack: Stack;
  let client: ConveyorClient;

  before(async () => {
    stack = await Stack.start();
    client = new ConveyorClient({ apiUrl: stack.gatewayUrl, monitorUrl: stack.monitorUrl });
  });
  after(async () => {
    client?.close();
    await stack?.stop();
  });

  it('submits, watches to the end and reads, every event once and in order, across a dropped connection', async () => {
    const execution = await client.submit('demo.steps', { steps: 10, stepMs: 100 }, { tags: ['sdk'] });
    let snapshot: ExecutionView | undefined;
    let dropped = false;
    const watch = client.watch(execution.id, {
      onSnapshot: (s) => (snapshot = s),
      onEvent: (event) => {
        // Drop the transport once, mid-run: socket.io reconnects and the watch subscribes again.
        if (!dropped && event.type === 'execution.progress' && (event as ConveyorEvent<'execution.progress'>).data.percent >= 30) {
          dropped = true;
          watch.connection.socket.io.engine.close();
        }
      },
    });
    let reconnects = 0;
    watch.connection.socket.io.on('reconnect', () => reconnects++);

    const final = await watch.done;
    assert.equal(reconnects, 1, 'the connection dropped and came back once');
    assert.equal(final.status, 'completed');
    assert.deepEqual(final.result, { steps: 10 });
    const seqs = watch.events.flatMap((e) => (e.seq === undefined ? [] : [e.seq]));
    assert.ok(snapshot);
    assert.deepEqual(seqs, Array.from({ length: final.seq - snapshot.seq }, (_, i) => snapshot!.seq + 1 + i));
    assert.equal(watch.events.at(-1)?.type, 'execution.completed');
  });

  it('answers with typed errors', async () => {
    await assert.rejects(client.get('exec_01M000000000000000000000ZZ'), (error: unknown) => error instanceof ConveyorApiError && error.statusCode === 404 && error.code === 'not_found');
    await assert.rejects(
      client.submit('demo.steps', { steps: 0, stepMs: 0 }),
      (error: unknown) => error instanceof ConveyorApiError && error.code === 'validation_failed' && error.details[0].path === 'input.steps',
    );
    await assert.rejects(client.watch('exec_01M000000000000000000000ZZ').done, (error: unknown) => error instanceof ConveyorApiError && error.code === 'not_found');
  });

  it('lists, cancels and retries', async () => {
    const execution = await client.submit('demo.noop', {}, { delayMs: 60_000, tags: ['sdk-list'] });
    const listed = await client.list({ tag: ['sdk-list'], status: ['scheduled'] });
    assert.deepEqual(listed.items.map((e) => e.id), [execution.id]);
    assert.equal((await client.cancel(execution.id, 'from the SDK')).status, 'cancelled');
    assert.equal((await client.retry(execution.id)).status, 'queued');
  });
});
