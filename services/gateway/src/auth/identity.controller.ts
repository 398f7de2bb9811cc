import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { CreateApiKeyDto, CreateTokenDto, type ApiKeyView, type BrowserTokenView } from '@conveyor/contracts';
import { ApiKeyStore, Authenticator, issueBrowserToken, type Caller } from '@conveyor/identity';
import { parseRequest } from '../http/parse-request.js';
import { apiKeyId } from '../http/request-guards.js';
import { Access, CallerOf } from '@conveyor/service';

@Controller('v1')
export class IdentityController {
  constructor(
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
    @Inject(Authenticator) private readonly authenticator: Authenticator,
  ) {}

  /** A managed key: the key itself is in this answer only (it is stored as a hash). */
  @Post('api-keys')
  @Access('admin')
  @HttpCode(201)
  createKey(@Body() body: unknown): Promise<ApiKeyView & { key: string }> {
    return this.keys.create(parseRequest(CreateApiKeyDto, body));
  }

  @Get('api-keys')
  @Access('admin')
  async listKeys(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  /** Revoked everywhere within a second, with the tokens, sessions and sockets it made. */
  @Delete('api-keys/:id')
  @Access('admin')
  @HttpCode(204)
  async revokeKey(@Param('id', apiKeyId) id: string): Promise<void> {
    await this.keys.revoke(id);
  }

  /** A read-only token for a browser, scoped to some executions, tags, schedules or the tenant. */
  @Post('tokens')
  @Access('write')
  @HttpCode(201)
  createToken(@CallerOf() caller: Caller, @Body() body: unknown): Promise<BrowserTokenView> {
    return issueBrowserToken(this.authenticator.signer, caller, parseRequest(CreateTokenDto, body));
  }
}
