import type { Redis } from 'ioredis';

/**
 * Listens on sharded pub/sub channels (SSUBSCRIBE), on a single Redis as on a cluster, where each
 * channel lives in its queue's slot: one call per channel, since one call may name one slot only.
 * The connection subscribes again by itself after a reconnect (or a slot's move).
 */
export async function listenSharded(redis: Redis, channels: readonly string[], onMessage: (channel: string, message: string) => void): Promise<void> {
  redis.on('smessage', onMessage);
  await Promise.all(channels.map((channel) => redis.ssubscribe(channel)));
}
