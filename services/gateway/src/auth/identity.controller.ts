import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { CreateApiKeyDto, CreateTokenDto, type ApiKeyView, type BrowserTokenView } from '@conveyor/contracts';
import { ApiKeyStore, Authenticator, issueBrowserToken, type Caller } from '@conveyor/identity';
import { parseRequest } from '../http/parse-request.js';
import { apiKeyId } from '../http/request-guards.js';
import { Access, ApiRoute, CallerOf } from '@conveyor/service';

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
  @ApiRoute({ summary: 'Create an API key', body: 'CreateApiKeyDto', answers: { 201: 'CreatedApiKey' } })
  createKey(@Body() body: unknown): Promise<ApiKeyView & { key: string }> {
    return this.keys.create(parseRequest(CreateApiKeyDto, body));
  }

  @Get('api-keys')
  @Access('admin')
  @ApiRoute({ summary: 'List the managed API keys', answers: { 200: 'ApiKeyItems' } })
  async listKeys(): Promise<{ items: ApiKeyView[] }> {
    return { items: await this.keys.list() };
  }

  /** Revoked everywhere within a second, with the tokens, sessions and sockets it made. */
  @Delete('api-keys/:id')
  @Access('admin')
  @HttpCode(204)
  @ApiRoute({ summary: 'Revoke an API key', answers: { 204: null } })
  async revokeKey(@Param('id', apiKeyId) id: string): Promise<void> {
    await this.keys.revoke(id);
  }

  /** A read-only token for a browser, scoped to some executions, tags, schedules or the tenant. */
  @Post('tokens')
  @Access('write')
  @HttpCode(201)
  @ApiRoute({ summary: 'Make a read-only browser token', body: 'CreateTokenDto', answers: { 201: 'BrowserTokenView' } })
  createToken(@CallerOf() caller: Caller, @Body() body: unknown): Promise<BrowserTokenView> {
    return issueBrowserToken(this.authenticator.signer, caller, parseRequest(CreateTokenDto, body));
  }
}
