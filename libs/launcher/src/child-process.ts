import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process whose output lines are kept and can be waited for. */
export class ManagedProcess {
  readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;
  private readonly watchers = new Set<(line: string) => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    onLine?: (line: string) => void,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > 2000) this.lines.shift();
        onLine?.(line);
        this.watchers.forEach((watch) => watch(line));
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line that `matches`; rejects if the process exits first or after `timeoutMs`. */
  waitForLine(matches: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const seen = this.lines.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (action: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        action();
      };
      const watch = (line: string) => matches(line) && done(() => resolve(line));
      const timer = setTimeout(() => done(() => reject(this.failure(`not ready after ${timeoutMs} ms`))), timeoutMs);
      this.watchers.add(watch);
      void this.exited.then((code) => done(() => reject(this.failure(`exited with code ${code}`))));
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }

  private failure(what: string): Error {
    return new Error(`${this.name} ${what}. Last output:\n${this.lines.slice(-20).join('\n')}`);
  }
}

export function spawnManaged(name: string, command: string, args: string[], options: SpawnOptions, onLine?: (line: string) => void) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  return new ManagedProcess(name, child, onLine);
}
