import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

/** The lines a logger writes while `log` runs, parsed. */
function linesOf(log: (logger: ReturnType<typeof createLogger>) => void): Record<string, unknown>[] {
  const lines: string[] = [];
  log(createLogger('test', 'info', { write: (line: string) => void lines.push(line) }));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createLogger', () => {
  it('redacts credentials wherever a log call puts them', () => {
    const [line] = linesOf((logger) =>
      logger.child({ requestId: 'r1' }).warn(
        {
          authorization: 'Bearer secret-k1',
          req: { headers: { authorization: 'Bearer secret-k2', cookie: 'conveyor_session=secret-s1', host: 'here' } },
          config: { auth: { tokenSecret: 'secret-s2', adminKey: 'secret-k3' }, redis: { password: 'secret-p1' } },
          err: { options: { headers: { authorization: 'Bearer secret-k4' } } },
          token: 'secret-t1',
        },
        'something',
      ),
    );
    const text = JSON.stringify(line);
    assert.doesNotMatch(text, /secret-/);
    assert.equal((line.req as { headers: { host: string } }).headers.host, 'here');
    assert.equal(line.requestId, 'r1');
  });
});
