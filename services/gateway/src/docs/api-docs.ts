import type { INestApplication } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type OperationObject, type SchemaObject } from '@nestjs/swagger';
// class-transformer's CommonJS build holds the `@Type` metadata that nested DTOs (`backoff`, `scope`) need.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { FastifyReply } from 'fastify';
import {
  CreateApiKeyDto,
  CreateScheduleDto,
  CreateScheduleHookDto,
  CreateTokenDto,
  LoginDto,
  SchedulePreviewDto,
  SubmitExecutionDto,
  TenantLimitsDto,
  CreateWebhookDto,
  UpdateWebhookDto,
  RotateWebhookSecretDto,
  limits,
  sessionRequestHeader,
  type AnyTask,
} from '@conveyor/contracts';
import type { Need } from '@conveyor/identity';
import { ACCESS, refusals, type AccessRule } from '@conveyor/service';
import { sessionCookie } from '../auth/session-cookie.js';
import { CancelExecutionDto } from '../executions/execution-requests.dto.js';
import { CleanQueueDto, QueueConcurrencyDto } from '../queues/queue-requests.dto.js';
import { arrayOf, ref } from './schema-builders.js';
import { viewSchemas } from './view-schemas.js';

/** Where Swagger UI and the document are served. */
const docsPath = '/docs';

/** The request bodies validated by a class: their schemas are those classes', as the gateway validates with them. */
const requestClasses = [
  CancelExecutionDto,
  CleanQueueDto,
  QueueConcurrencyDto,
  CreateApiKeyDto,
  CreateTokenDto,
  LoginDto,
  TenantLimitsDto,
  CreateScheduleHookDto,
  SchedulePreviewDto,
  CreateWebhookDto,
  UpdateWebhookDto,
  RotateWebhookSecretDto,
];

/**
 * The gateway's OpenAPI 3.1 document, from its routes (`@ApiRoute` on each), their `@Access` rules
 * (credentials, `?tenant=`, `401`/`403`), the request classes and the task catalogue the gateway
 * validates with, and the answer schemas of `viewSchemas`.
 */
function openApiDocument(app: INestApplication, tasks: readonly AnyTask[]): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Conveyor')
    .setDescription('The REST API of the gateway. Errors are `{ statusCode, code, message, details? }`; times are UTC ISO 8601 with milliseconds.')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key, or a browser token (read-only: `GET` of executions and schedules).' }, 'bearer')
    .addCookieAuth(
      sessionCookie,
      { type: 'apiKey', in: 'cookie', name: sessionCookie, description: `The dashboard's session (\`POST /ui/login\`); a change made with it also needs \`${sessionRequestHeader}: 1\`.` },
      'session',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}` });
  document.components = { ...document.components, schemas: { ...requestSchemas(tasks), ...viewSchemas } };
  const accessOf = accessRules(app);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) completeOperation(operation, accessOf(operation.operationId!));
  }
  return document;
}

/**
 * Serves Swagger UI at `/docs` and the document at `/docs/openapi.json`, public like `/health`: it
 * describes the API, holds no data, and Swagger UI's files come from the gateway itself (no CDN).
 */
export function serveApiDocs(app: NestFastifyApplication, tasks: readonly AnyTask[]): void {
  const document = openApiDocument(app, tasks);
  SwaggerModule.setup(docsPath.slice(1), app, document, { jsonDocumentUrl: `${docsPath}/openapi.json`, raw: ['json'], customSiteTitle: 'Conveyor API' });
  // The page's own files only; Swagger UI sets some styles inline.
  app.getHttpAdapter().getInstance().addHook('onRequest', async (request, reply: FastifyReply) => {
    if (request.url.toLowerCase().startsWith(docsPath)) {
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'");
      reply.header('x-content-type-options', 'nosniff');
    }
  });
}

/** Request bodies: one variant of a submission and of a schedule per task, its `input` that task's input class. */
function requestSchemas(tasks: readonly AnyTask[]): Record<string, SchemaObject> {
  const all = validationMetadatasToSchemas({ refPointerPrefix: '#/components/schemas/', classTransformerMetadataStorage: defaultMetadataStorage }) as Record<string, SchemaObject>;
  const named = [...requestClasses, SubmitExecutionDto, CreateScheduleDto, ...tasks.map((task) => task.input)].map((cls) => cls.name);
  const schemas: Record<string, SchemaObject> = Object.fromEntries(withReferences(named, all).map((name) => [name, all[name]]));
  // An input may be left out when its class requires nothing (it is then validated as `{}`).
  const perTask = (base: string) =>
    tasks.map((task) => {
      const required = ['task', ...(all[task.input.name].required?.length ? ['input'] : [])];
      return { allOf: [ref(base), { type: 'object', required, properties: { task: { const: task.name }, input: ref(task.input.name) } }] } as SchemaObject;
    });
  return {
    ...schemas,
    SubmitExecution: { oneOf: perTask(SubmitExecutionDto.name), description: 'A task, its input (as the task defines it) and options.' },
    SubmitBatch: {
      type: 'object',
      required: ['executions'],
      properties: { executions: { ...arrayOf(ref('SubmitExecution')), minItems: 1, maxItems: limits.batchSize, description: 'Without idempotency keys.' } },
      additionalProperties: false,
    },
    CreateSchedule: { oneOf: perTask(CreateScheduleDto.name), description: 'An execution template and at most one trigger: cron (+ tz), every, at, or none (run by hand).' },
    SchedulePatch: { type: 'object', additionalProperties: true, description: 'A JSON merge patch of the definition (`null` clears a field; trigger fields are replaced together) or of `enabled`.' },
    HookPatch: { type: 'object', additionalProperties: true, description: "A JSON merge patch (RFC 7396) over the schedule's input; an empty body runs the input as it is." },
  };
}

/** The names and every schema they refer to, each once. */
function withReferences(names: string[], all: Record<string, SchemaObject>): string[] {
  const found = new Set<string>();
  const visit = (name: string) => {
    if (found.has(name)) return;
    found.add(name);
    for (const [, referred] of JSON.stringify(all[name]).matchAll(/#\/components\/schemas\/(\w+)/g)) visit(referred);
  };
  names.forEach(visit);
  return [...found];
}

/** Each operation's `@Access` rule, found by its id (`<controller>_<method>`) among the app's controllers. */
function accessRules(app: INestApplication): (operationId: string) => AccessRule {
  const controllers = new Map<string, Function>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) if (metatype) controllers.set(metatype.name.replace(/Controller$/, ''), metatype);
  }
  const reflector = app.get(Reflector);
  return (operationId) => {
    const [controller, method] = operationId.split('_');
    const cls = controllers.get(controller)!;
    return reflector.getAllAndOverride<AccessRule | undefined>(ACCESS, [cls.prototype[method], cls]) ?? { need: 'admin' };
  };
}

const whoMay: Record<Need, string> = { read: 'a key of any role', write: 'a tenant or admin key', admin: 'an admin key' };

/** Adds what follows from the route's access rule, path and body: credentials, `?tenant=`, and the refusals every such route can answer. */
function completeOperation(operation: OperationObject, rule: AccessRule): void {
  // Any request can be malformed, too slow or too large in its headers, come from a foreign origin, or meet Redis down.
  const statuses = [400, 403, 408, 431, 500, 503];
  // A public route may still say what it checks itself (`/metrics`: the admin key).
  if (rule.need === 'public') operation.security ??= [];
  else {
    operation.security = [{ bearer: [] }, { session: [] }];
    operation.parameters = [
      ...(operation.parameters ?? []),
      { name: 'tenant', in: 'query', required: false, schema: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' }, description: "An admin's tenant: reads without it span all tenants, writes need it." },
    ];
    operation.description = `Needs ${whoMay[rule.need]}${rule.tokens ? ', or a browser token whose scope covers it' : ''}.`;
    statuses.push(401);
  }
  if (operation.requestBody) statuses.push(413, 415);
  if (operation.parameters?.some((parameter) => 'in' in parameter && parameter.in === 'path')) statuses.push(404);
  for (const status of statuses) {
    operation.responses[status] ??= { description: refusals[status], content: { 'application/json': { schema: ref('ApiError') } } };
  }
}
