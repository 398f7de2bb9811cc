import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { from, mergeMap, of, isObservable, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { BrowserFacingIoAdapter } from './browser-facing-io-adapter.js';

/** A socket as the handlers see it: messages come in with `receive`; what it sends (`emit`) is recorded. */
class FakeSocket extends EventEmitter {
  disconnected = false;
  readonly sent: unknown[][] = [];

  override emit(event: string, ...args: unknown[]): boolean {
    this.sent.push([event, ...args]);
    return true;
  }

  receive(message: string, ...args: unknown[]): void {
    super.emit(message, ...args);
  }
}

/** Nest's own transform: a handler's value, promise or observable, as one observable. */
const transform = (result: unknown): Observable<unknown> => from(Promise.resolve(result)).pipe(mergeMap((value) => (isObservable(value) ? value : of(value))));

const settle = () => new Promise((resolve) => setImmediate(resolve));

type Handler = { message: string; callback: (data: unknown, ack?: unknown) => unknown; isAckHandledManually?: boolean };

function bind(handlers: Handler[]) {
  const adapter = new BrowserFacingIoAdapter(undefined as unknown as INestApplicationContext, []);
  const errors: unknown[] = [];
  (adapter as unknown as { logger: { error: (err: unknown) => void } }).logger = { error: (err) => errors.push(err) };
  const socket = new FakeSocket();
  const bound = handlers.map((h) => ({ methodName: h.message, isAckHandledManually: false, ...h }) as MessageMappingProperties);
  adapter.bindMessageHandlers(socket as unknown as Socket, bound, transform);
  return { socket, deliver: socket.receive.bind(socket), errors };
}

describe('the monitor’s socket adapter', () => {
  it('answers through the ack, unless the handler acks itself; emits a result naming an event', async () => {
    const { socket, deliver } = bind([
      { message: 'plain', callback: async (data) => ({ echoed: data }) },
      { message: 'manual', callback: (_data, ack) => (ack as (a: unknown) => void)({ own: true }) ?? { ignored: true }, isAckHandledManually: true },
      { message: 'event', callback: () => ({ event: 'told', data: 7 }) },
    ]);
    const acks: unknown[] = [];
    deliver('plain', { a: 1 }, (answer: unknown) => acks.push(answer));
    deliver('manual', {}, (answer: unknown) => acks.push(answer));
    deliver('event', {});
    await settle();
    assert.deepEqual(acks, [{ own: true }, { echoed: { a: 1 } }]);
    assert.deepEqual(socket.sent, [['told', 7]]);
  });

  it('takes a payload as RxJS fromEvent gives it: one argument as it is, an ack alone as the ack', async () => {
    const seen: unknown[] = [];
    const { deliver } = bind([{ message: 'm', callback: (data, ack) => void seen.push([data, typeof ack]) }]);
    deliver('m', [1, 2]);
    deliver('m', () => undefined);
    deliver('m', 'x', 'y');
    await settle();
    assert.deepEqual(seen, [
      [[1, 2], 'undefined'],
      [undefined, 'function'],
      [['x', 'y'], 'undefined'],
    ]);
  });

  it('logs a failing handler and keeps answering; sends nothing once the socket is gone', async () => {
    let calls = 0;
    const { socket, deliver, errors } = bind([
      {
        message: 'm',
        callback: async () => {
          calls++;
          if (calls === 1) throw new Error('boom');
          if (calls === 2) return Promise.reject(new Error('rejected'));
          return { n: calls };
        },
      },
      {
        message: 'sync',
        callback: () => {
          throw new Error('thrown at once');
        },
      },
    ]);
    const acks: unknown[] = [];
    for (let i = 0; i < 3; i++) deliver('m', {}, (answer: unknown) => acks.push(answer));
    deliver('sync', {}, (answer: unknown) => acks.push(answer));
    await settle();
    assert.deepEqual([...acks], [{ n: 3 }]);
    assert.equal(errors.length, 3);
    deliver('m', {}, (answer: unknown) => acks.push(answer));
    socket.disconnected = true;
    await settle();
    assert.equal(acks.length, 1, 'no answer after the disconnect');
  });
});
