import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { hookTokenPattern, newId, NotFoundError, type ScheduleHookView } from '@conveyor/contracts';
import { hashKey } from '@conveyor/identity';
import type { RedisKeys } from '@conveyor/redis';
import type { ScheduleRecord } from './schedule-record.js';

/** A hook as stored: its view, with the secret that checks signatures and its token's hash. Persisted: add fields, never rename them. */
export interface StoredHook extends ScheduleHookView {
  tenant: string;
  secret: string;
  tokenHash: string;
}

/** Where a token's hook is: all a call's token leads to. */
interface TokenTarget {
  tenant: string;
  scheduleId: string;
  hookId: string;
}

type ScheduleRef = Pick<ScheduleRecord, 'id' | 'tenant'>;

/**
 * Inbound hooks of schedules: each a token (the credential of its URL, kept only as a hash, as API
 * keys are) and a secret for signed calls. The records live under their tenant's tag; the token's
 * lookup beside the API keys', so that a call finds its hook from the token alone.
 */
export class ScheduleHooks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** A new hook, with its token and secret (shown once). */
  async create(schedule: ScheduleRef, description: string | null): Promise<{ hook: ScheduleHookView; token: string; secret: string }> {
    const token = `hkt_${randomBytes(32).toString('base64url')}`;
    const hook: StoredHook = {
      id: newId('hook'),
      scheduleId: schedule.id,
      tenant: schedule.tenant,
      description,
      createdAt: new Date().toISOString(),
      secret: `hks_${randomBytes(32).toString('base64url')}`,
      tokenHash: hashKey(token),
    };
    const target: TokenTarget = { tenant: hook.tenant, scheduleId: hook.scheduleId, hookId: hook.id };
    // The lookup first: a token whose record is missing leads nowhere, while a record without its lookup would list a hook that cannot be called.
    await this.redis.hset(this.keys.hookTokens(), hook.tokenHash, JSON.stringify(target));
    await this.redis.hset(this.keys.scheduleHooks(hook.tenant, hook.scheduleId), hook.id, JSON.stringify(hook));
    return { hook: viewOf(hook), token, secret: hook.secret };
  }

  /** The schedule's hooks, oldest first, without secrets or token hashes. */
  async list(schedule: ScheduleRef): Promise<ScheduleHookView[]> {
    return (await this.stored(schedule)).map(viewOf);
  }

  /** Revokes a hook: its token stops working at once. */
  async revoke(schedule: ScheduleRef, hookId: string): Promise<void> {
    const json = await this.redis.hget(this.keys.scheduleHooks(schedule.tenant, schedule.id), hookId);
    if (json === null) throw new NotFoundError(`Hook ${hookId}`);
    await this.forget(schedule, [JSON.parse(json) as StoredHook]);
  }

  /** Every hook of a deleted schedule goes with it. */
  async forgetAll(schedule: ScheduleRef): Promise<void> {
    await this.forget(schedule, await this.stored(schedule));
  }

  /** The hook a call's token names, or `null` (a malformed, unknown or revoked token). */
  async resolve(token: string): Promise<StoredHook | null> {
    if (!hookTokenPattern.test(token)) return null;
    const tokenHash = hashKey(token);
    const target = await this.redis.hget(this.keys.hookTokens(), tokenHash);
    if (target === null) return null;
    const { tenant, scheduleId, hookId } = JSON.parse(target) as TokenTarget;
    const json = await this.redis.hget(this.keys.scheduleHooks(tenant, scheduleId), hookId);
    const hook = json === null ? null : (JSON.parse(json) as StoredHook);
    return hook?.tokenHash === tokenHash ? hook : null;
  }

  private async stored(schedule: ScheduleRef): Promise<StoredHook[]> {
    const hooks = Object.values(await this.redis.hgetall(this.keys.scheduleHooks(schedule.tenant, schedule.id))).map((json) => JSON.parse(json) as StoredHook);
    return hooks.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The records first, so that a token whose lookup outlives them (a crash between the two) already leads nowhere. */
  private async forget(schedule: ScheduleRef, hooks: StoredHook[]): Promise<void> {
    if (hooks.length === 0) return;
    await this.redis.hdel(this.keys.scheduleHooks(schedule.tenant, schedule.id), ...hooks.map((hook) => hook.id));
    await this.redis.hdel(this.keys.hookTokens(), ...hooks.map((hook) => hook.tokenHash));
  }
}

function viewOf({ id, scheduleId, description, createdAt }: StoredHook): ScheduleHookView {
  return { id, scheduleId, description, createdAt };
}
