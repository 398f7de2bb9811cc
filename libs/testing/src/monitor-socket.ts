import { io, type Socket } from 'socket.io-client';

export interface SocketOptions {
  /** An API key or a browser token, sent as `auth: { token }`. */
  token?: string;
  /** An `Origin` header on the handshake, as a browser would send it. */
  origin?: string;
  /** Default: the WebSocket transport only. */
  transports?: ('websocket' | 'polling')[];
}

/** A raw socket.io client of the monitor, once connected (no reconnection); rejects with the `connect_error`. */
export function connectSocket(url: string, options: SocketOptions = {}): Promise<Socket> {
  const socket = io(url, {
    transports: options.transports ?? ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(options.token === undefined ? {} : { auth: { token: options.token } }),
    ...(options.origin === undefined ? {} : { extraHeaders: { origin: options.origin } }),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Resolves with the reason once the connected socket is disconnected; the timeout only guards hangs. */
export function disconnection(socket: Socket, timeoutMs = 10_000): Promise<Socket.DisconnectReason> {
  if (socket.disconnected) return Promise.reject(new Error('already disconnected: wait for the disconnection before it can happen'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}
