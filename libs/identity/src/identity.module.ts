import { Module, type DynamicModule } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AuthConfig } from '@conveyor/config';
import { REDIS, RedisKeys } from '@conveyor/redis';
import { ApiKeyStore } from './api-keys.js';
import { Authenticator } from './authenticator.js';

/** Keys and credentials for a service that answers callers (gateway, monitor); needs the execution core's Redis. */
@Module({})
export class IdentityModule {
  static forRoot(auth: AuthConfig | null): DynamicModule {
    return {
      module: IdentityModule,
      global: true,
      providers: [
        { provide: ApiKeyStore, inject: [REDIS, RedisKeys], useFactory: (redis: Redis, keys: RedisKeys) => new ApiKeyStore(redis, keys) },
        { provide: Authenticator, inject: [ApiKeyStore], useFactory: (store: ApiKeyStore) => new Authenticator(auth, store) },
      ],
      exports: [ApiKeyStore, Authenticator],
    };
  }
}
