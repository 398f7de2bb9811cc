import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { Authenticator, keyFreshnessMs, type Principal } from '@conveyor/identity';

/** The principal a socket's handshake proved. */
export function principalOf(socket: Socket): Principal {
  return socket.data.principal as Principal;
}

/** A `connect_error` the client can branch on (`err.message`, `err.data.code`). */
function refusal(code: 'unauthorized' | 'redis_unavailable'): Error {
  return Object.assign(new Error(code), { data: { code } });
}

/**
 * Lets a socket in only with a valid API key or browser token (`auth: { token }`), and keeps it in
 * only while that holds: a token's socket ends at its expiry, every socket of a revoked key (and of
 * the tokens it made) within a second.
 */
@Injectable()
export class SocketAuthenticator implements OnModuleDestroy {
  /** Connected sockets by the key that vouches for them. */
  private readonly byKey = new Map<string, Set<Socket>>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(@Inject(Authenticator) private readonly authenticator: Authenticator) {}

  guard(server: Server): void {
    server.use((socket, next) => {
      const token: unknown = socket.handshake.auth?.token;
      this.authenticator.authenticate(typeof token === 'string' ? token : undefined).then(
        (principal) => {
          if (!principal) return next(refusal('unauthorized'));
          socket.data.principal = principal;
          next();
        },
        () => next(refusal('redis_unavailable')),
      );
    });
    if (this.authenticator.enabled) this.sweep = setInterval(() => void this.dropRevoked(), keyFreshnessMs).unref();
  }

  watch(socket: Socket): void {
    const principal = principalOf(socket);
    if (!this.authenticator.enabled) return;
    const sockets = this.byKey.get(principal.keyId) ?? new Set<Socket>();
    this.byKey.set(principal.keyId, sockets.add(socket));
    if (principal.kind === 'token') socket.data.expiry = setTimeout(() => socket.disconnect(true), principal.expiresAt - Date.now());
  }

  forget(socket: Socket): void {
    clearTimeout(socket.data.expiry as NodeJS.Timeout | undefined);
    const keyId = principalOf(socket)?.keyId;
    const sockets = keyId === undefined ? undefined : this.byKey.get(keyId);
    if (sockets?.delete(socket) && sockets.size === 0) this.byKey.delete(keyId!);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
  }

  /** Disconnects the sockets of keys revoked since (a failed lookup keeps them: Redis being away revokes nothing). */
  private async dropRevoked(): Promise<void> {
    await Promise.all(
      [...this.byKey].map(async ([keyId, sockets]) => {
        const key = await this.authenticator.keyById(keyId).catch(() => undefined);
        if (key === null) for (const socket of sockets) socket.disconnect(true);
      }),
    );
  }
}
