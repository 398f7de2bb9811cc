import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Server, ServerOptions, Socket } from 'socket.io';
import { isAllowedOrigin } from '@conveyor/identity';

/**
 * socket.io with the allowed browser origins: CORS for the polling transport, and a refusal of any
 * other origin before the handshake — a WebSocket is not bound by CORS, so a foreign page could
 * otherwise open one with its visitor's browser.
 *
 * Each socket gets one plain listener per message handler: the base adapter builds an RxJS pipeline
 * per handler per socket (a dozen subscribers and some fifty closures), which held about half of
 * what a connected socket cost the monitor.
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

  /**
   * As the base adapter does: a handler's result (as `transform` resolves it) that is not nil is
   * emitted when it names an `event`, else answered through the ack unless the handler acks itself;
   * an error is logged and the handler keeps listening; nothing is sent once the socket is gone.
   */
  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => {
        // The payload as RxJS `fromEvent` gives it: the one argument, or all of them.
        const { data, ack } = this.mapPayload(args.length > 1 ? args : args[0]);
        const respond = (response: unknown) => {
          if (response === null || response === undefined || socket.disconnected) return;
          const { event, data: eventData } = response as { event?: string; data?: unknown };
          if (event) socket.emit(event, eventData);
          else if (!isAckHandledManually && typeof ack === 'function') ack(response);
        };
        const fail = (err: unknown) => this.logger.error(err);
        try {
          transform(callback(data, ack)).subscribe({ next: respond, error: fail });
        } catch (err) {
          fail(err);
        }
      });
    }
  }

  override bindClientDisconnect(client: Socket, callback: (reason: string) => void): void {
    client.once('disconnect', callback);
  }
}
