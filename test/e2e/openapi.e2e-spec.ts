import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { gatewayRoutes, openApiDocumentPath, ResponseSchemas, stackCredentials, stackPerSuite } from '@conveyor/testing';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The router's `/v1/executions/:id` as OpenAPI writes it: `/v1/executions/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

// Every response any end-to-end test gets through `ApiClient` is checked against this document too.
describe('the OpenAPI document at /docs', () => {
  const credentials = stackCredentials(['acme']);
  const suite = stackPerSuite({ workers: 0, monitors: 0, env: credentials.env });
  let document: any;

  // Public, like /health: fetched without a key although keys are set.
  before(async () => {
    const reply = await fetch(new URL(openApiDocumentPath, suite.stack.gatewayUrl));
    assert.equal(reply.status, 200);
    document = await reply.json();
  });

  // The routes of the gateway's Nest module: Bull Board (a prefixed plugin), the dashboard's page and
  // files and /docs itself are registered beside it, and are not API routes.
  it('documents every route the router serves, with its method, and no other', async () => {
    const routes = await gatewayRoutes({ ...suite.stack.baseEnv, CONVEYOR_PREFIX: `${suite.stack.prefix}-routes` });
    const undocumented = routes
      .filter(({ method, path }) => {
        const operation = document.paths[openApiPath(path)]?.[method.toLowerCase()];
        return !operation?.summary || !Object.keys(operation.responses).some((status) => status.startsWith('2'));
      })
      .map(({ method, path }) => `${method} ${path}`);
    assert.deepEqual(undocumented, [], `routes without documentation: give each an @ApiRoute({ summary, answers }) beside its @Get/@Post: ${undocumented.join(', ')}`);
    const served = new Set(routes.map(({ method, path }) => `${method} ${openApiPath(path)}`));
    const documented = Object.entries<object>(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    assert.deepEqual(
      documented.filter((operation) => !served.has(operation)),
      [],
    );
  });

  it('passes an OpenAPI 3.1 validator, and every reference resolves', async () => {
    const result = await new Validator().validate(document);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 1)?.slice(0, 2000));
    assert.equal(document.openapi, '3.1.0');
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(([, name]) => name);
    assert.deepEqual([...new Set(references.filter((name) => !(name in document.components.schemas)))], []);
  });

  it('describes bodies, headers, credentials and refusals: one input schema per task, the error envelope, public routes without credentials', () => {
    const submit = document.paths['/v1/executions'].post;
    assert.deepEqual(Object.keys(submit.responses).sort(), ['200', '202', '400', '401', '403', '408', '409', '413', '415', '429', '431', '500', '503']);
    assert.equal(submit.responses['429'].content['application/json'].schema.$ref, '#/components/schemas/ApiError');
    assert.deepEqual(Object.keys(submit.responses['202'].headers), ['Location', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']);
    assert.ok(submit.responses['429'].headers['Retry-After']);
    assert.deepEqual(submit.security, [{ bearer: [] }, { session: [] }]);
    const variants = document.components.schemas.SubmitExecution.oneOf.map((variant: any) => variant.allOf[1].properties);
    assert.deepEqual(
      variants.map((properties: any) => [properties.task.const, properties.input.$ref]),
      [
        ['demo.steps', '#/components/schemas/DemoStepsInput'],
        ['demo.noop', '#/components/schemas/DemoNoopInput'],
        ['http.request', '#/components/schemas/HttpRequestInput'],
      ],
    );
    assert.deepEqual(document.components.schemas.DemoStepsInput.required, ['steps', 'stepMs']);
    assert.deepEqual(document.paths['/health'].get.security, []);
    assert.ok(!document.paths['/health'].get.responses['401']);
  });

  it('holds answers to their schemas: an execution without its status, or with a field it does not document, is refused', async () => {
    const schemas = ResponseSchemas.compile(document);
    const execution = (await suite.stack.api.as(credentials.tenants.acme).post('/v1/executions', { task: 'demo.noop' })).body as Record<string, unknown>;
    const path = `/v1/executions/${String(execution.id)}`;
    schemas.check('GET', path, 200, execution);
    const { status: _status, ...withoutStatus } = execution;
    assert.throws(() => schemas.check('GET', path, 200, withoutStatus), /does not match its OpenAPI schema/);
    assert.throws(() => schemas.check('GET', path, 200, { ...execution, extra: 1 }), /does not match its OpenAPI schema/);
    assert.throws(() => schemas.check('GET', path, 418, {}), /a status its OpenAPI operation does not list/);
  });

  it('serves Swagger UI from the gateway itself, with a CSP that allows nothing from elsewhere', async () => {
    const page = await fetch(new URL('/docs', suite.stack.gatewayUrl));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.doesNotMatch(csp, /https?:|\*/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url);
    assert.ok(assets.some((url) => url.endsWith('.js')) && assets.some((url) => url.endsWith('.css')), html.slice(0, 500));
    for (const asset of assets) {
      const url = new URL(asset, page.url);
      assert.equal(url.origin, new URL(suite.stack.gatewayUrl).origin, asset);
      assert.equal((await fetch(url)).status, 200, asset);
    }
  });

  it("generates a client whose types and the SDK's agree for the main routes", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-openapi-'));
    try {
      writeFileSync(join(dir, 'generated.ts'), astToString(await openapiTS(document)));
      writeFileSync(join(dir, 'check.ts'), sdkAgreement(join(root, 'libs/client/src/index.js'), join(root, 'libs/contracts/src/index.js')));
      const config = ts.parseJsonConfigFileContent(ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
      const program = ts.createProgram([join(dir, 'check.ts')], { ...config.options, noEmit: true, rootDir: undefined });
      const errors = ts.getPreEmitDiagnostics(program).map(({ file, start, messageText }) => {
        const line = file && start !== undefined ? file.text.split('\n')[file.getLineAndCharacterOfPosition(start).line].trim() : '';
        return `${ts.flattenDiagnosticMessageText(messageText, '\n')} ${line}`;
      });
      assert.deepEqual(errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Answers: the generated type and the SDK's are each assignable to the other. Requests: whatever the
 * SDK sends, the document accepts (the SDK may be stricter: it requires an `input`).
 */
const sdkAgreement = (client: string, contracts: string) => `
import type { ConveyorClient, SubmitOptions } from '${client}';
import type { TaskInput, TaskName, TaskOf } from '${contracts}';
import type { paths } from './generated.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Accepts<Doc, Sdk> = [Sdk] extends [Doc] ? true : false;
type Assert<T extends true> = T;
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Answer<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends { responses: infer R } ? (S extends keyof R ? Json<R[S]> : never) : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody: { content: { 'application/json': infer B } } } | { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type Sdk<F extends (...args: any[]) => Promise<unknown>> = Awaited<ReturnType<F>>;
type Submission = { [N in TaskName]: { task: N; input: TaskInput<TaskOf<N>> } & SubmitOptions }[TaskName];

export type Checks = [
  Assert<Same<Answer<'/v1/executions', 'post', 202>, Sdk<ConveyorClient['submit']>>>,
  Assert<Same<Answer<'/v1/executions/batch', 'post', 202>, Sdk<ConveyorClient['submitBatch']>>>,
  Assert<Same<Answer<'/v1/executions', 'get', 200>, Sdk<ConveyorClient['list']>>>,
  Assert<Same<Answer<'/v1/executions/{id}', 'get', 200>, Sdk<ConveyorClient['get']>>>,
  Assert<Same<Answer<'/v1/executions/{id}/logs', 'get', 200>, Sdk<ConveyorClient['logs']>>>,
  Assert<Same<Answer<'/v1/executions/{id}/cancel', 'post', 200>, Sdk<ConveyorClient['cancel']>>>,
  Assert<Same<Answer<'/v1/schedules', 'post', 201>, Sdk<ConveyorClient['schedules']['create']>>>,
  Assert<Same<Answer<'/v1/schedules', 'get', 200>, Sdk<ConveyorClient['schedules']['list']>>>,
  Assert<Same<Answer<'/v1/schedules/{id}/runs', 'get', 200>, Sdk<ConveyorClient['schedules']['runs']>>>,
  Assert<Same<Answer<'/v1/queues', 'get', 200>, Sdk<ConveyorClient['queues']['list']>>>,
  Assert<Same<Answer<'/v1/queues/{name}/clean', 'post', 200>, Sdk<ConveyorClient['queues']['clean']>>>,
  Assert<Same<Answer<'/v1/tasks', 'get', 200>, Sdk<ConveyorClient['tasks']>>>,
  Assert<Accepts<Body<'/v1/executions', 'post'>, Submission>>,
  Assert<Accepts<Body<'/v1/queues/{name}/clean', 'post'>, Parameters<ConveyorClient['queues']['clean']>[1]>>,
  Assert<Accepts<Body<'/v1/queues/{name}/concurrency', 'put'>, { concurrency: Parameters<ConveyorClient['queues']['setConcurrency']>[1] }>>,
];
`;
