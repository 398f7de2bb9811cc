import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { isAllowedOrigin } from '@conveyor/identity';

/**
 * socket.io with the allowed browser origins: CORS for the polling transport, and a refusal of any
 * other origin before the handshake — a WebSocket is not bound by CORS, so a foreign page could
 * otherwise open one with its visitor's browser.
 */
export class BrowserFacingIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly origins: readonly string[],
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: Partial<ServerOptions>): Server {
    return super.createIOServer(port, {
      ...(options as ServerOptions),
      cors: { origin: [...this.origins] },
      allowRequest: (request, callback) => callback(null, isAllowedOrigin(request.headers.origin, this.origins)),
    });
  }
}
