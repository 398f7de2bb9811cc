import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseSchemas } from './response-schemas.js';

const json = (schema: object) => ({ content: { 'application/json': { schema } } });

const schemas = ResponseSchemas.compile({
  openapi: '3.1.0',
  paths: {
    '/v1/things/{id}': { get: { responses: { 200: json({ $ref: '#/components/schemas/Thing' }), 404: json({ type: 'object', required: ['code'] }) } } },
    '/v1/things/batch': { get: { responses: { 200: json({ type: 'array' }) } }, delete: { responses: { 204: { description: 'gone' } } } },
  },
  components: { schemas: { Thing: { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, additionalProperties: false } } },
});

describe('ResponseSchemas', () => {
  it('accepts an answer its route, method and status describe, its references resolved', () => {
    schemas.check('GET', '/v1/things/t1?x=1', 200, { id: 't1' });
    schemas.check('GET', '/V1/Things/t1/', 404, { code: 'not_found' });
    schemas.check('DELETE', '/v1/things/batch', 204, undefined);
  });

  it('refuses a body its schema does not allow, or a status its operation does not list', () => {
    assert.throws(() => schemas.check('GET', '/v1/things/t1', 200, { id: 1 }), /GET \/v1\/things\/\{id\} 200 does not match its OpenAPI schema/);
    assert.throws(() => schemas.check('GET', '/v1/things/t1', 200, { id: 't1', more: true }), /does not match/);
    assert.throws(() => schemas.check('GET', '/v1/things/t1', 500, {}), /answered 500, a status its OpenAPI operation does not list/);
  });

  it('matches a literal segment before a parameter, and leaves paths and methods it does not describe alone', () => {
    schemas.check('GET', '/v1/things/batch', 200, []);
    assert.throws(() => schemas.check('GET', '/v1/things/batch', 200, { id: 'batch' }), /GET \/v1\/things\/batch 200/);
    schemas.check('GET', '/v1/elsewhere', 418, 'anything');
    schemas.check('POST', '/v1/things/t1', 418, 'anything');
  });
});
