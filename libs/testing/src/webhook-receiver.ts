import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the receiver got it: its path, headers (lower-case names) and raw body. */
export interface ReceivedHook {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** How to answer the n-th request (from 1) to a path: a status (and headers), or `'hang'` to never answer. */
export type HookAnswer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * Stands in for a team's webhook endpoint: a plain HTTP server on a free loopback port that keeps each
 * request and answers as the test scripts it per path (200 by default).
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private readonly scripts = new Map<string, (n: number, hook: ReceivedHook) => HookAnswer>();
  private readonly hanging = new Set<ServerResponse>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (request, response) => void receiver.receive(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The URL of a path on this receiver. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Answers requests to `path` as `answer` says for the n-th one (which it is given too). */
  script(path: string, answer: (n: number, hook: ReceivedHook) => HookAnswer): void {
    this.scripts.set(path, answer);
  }

  /** The requests to `path` so far. */
  to(path: string): ReceivedHook[] {
    return this.received.filter((hook) => hook.path === path);
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = request.url ?? '/';
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, [value].flat().join(', ')]));
    const hook = { path, headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
    this.received.push(hook);
    const answer = this.scripts.get(path)?.(this.to(path).length, hook) ?? { status: 200 };
    if (answer === 'hang') {
      this.hanging.add(response);
      return;
    }
    response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(`answer ${answer.status}`);
  }
}
