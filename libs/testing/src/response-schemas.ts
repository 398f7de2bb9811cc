import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

/** Where a gateway serves its OpenAPI document. */
export const openApiDocumentPath = '/docs/openapi.json';

interface DocumentedRoute {
  method: string;
  path: string;
  pattern: RegExp;
  /** By status: the body's validator, or `null` for an answer without a body. */
  answers: Map<number, ValidateFunction | null>;
}

/**
 * The OpenAPI document a gateway serves, compiled: `check` fails when an answer of a documented route
 * has a status its operation does not list, or a body its schema refuses. Paths the document does not
 * describe (unknown ones, Bull Board, the dashboard's files) are not checked.
 */
export class ResponseSchemas {
  private static readonly byGateway = new Map<string, Promise<ResponseSchemas>>();

  private constructor(private readonly routes: DocumentedRoute[]) {}

  /** The gateway's document, fetched and compiled once per gateway. */
  static of(baseUrl: string): Promise<ResponseSchemas> {
    let schemas = ResponseSchemas.byGateway.get(baseUrl);
    if (!schemas) {
      schemas = ResponseSchemas.fetch(baseUrl);
      ResponseSchemas.byGateway.set(baseUrl, schemas);
      schemas.catch(() => ResponseSchemas.byGateway.delete(baseUrl));
    }
    return schemas;
  }

  private static async fetch(baseUrl: string): Promise<ResponseSchemas> {
    const response = await fetch(new URL(openApiDocumentPath, baseUrl));
    assert.equal(response.status, 200, `${baseUrl} serves no OpenAPI document at ${openApiDocumentPath}`);
    return ResponseSchemas.compile(await response.json());
  }

  static compile(document: any): ResponseSchemas {
    const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    formats.default(ajv);
    // The whole document, so that its `#/components/...` references resolve.
    ajv.addSchema(document, 'openapi');
    const routes: DocumentedRoute[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(document.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        const answers = new Map<number, ValidateFunction | null>();
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          const [mediaType] = Object.keys(response.content ?? {});
          const pointer = (type: string) => ['paths', path, method, 'responses', status, 'content', type, 'schema'].map(escapePointer).join('/');
          answers.set(Number(status), mediaType ? ajv.compile({ $ref: `openapi#/${pointer(mediaType)}` }) : null);
        }
        routes.push({ method: method.toUpperCase(), path, pattern: patternOf(path), answers });
      }
    }
    // Literal segments before parameters: `/v1/executions/batch` before `/v1/executions/{id}`.
    routes.sort((a, b) => (a.path.match(/\{/g)?.length ?? 0) - (b.path.match(/\{/g)?.length ?? 0));
    return new ResponseSchemas(routes);
  }

  check(method: string, url: string, status: number, body: unknown): void {
    const pathname = new URL(url, 'http://gateway').pathname;
    const route = this.routes.find((one) => one.method === method.toUpperCase() && one.pattern.test(pathname));
    if (!route) return;
    const operation = `${route.method} ${route.path}`;
    assert.ok(route.answers.has(status), `${operation} answered ${status}, a status its OpenAPI operation does not list: ${JSON.stringify(body)?.slice(0, 300)}`);
    const validate = route.answers.get(status);
    if (!validate || method.toUpperCase() === 'HEAD') return;
    assert.ok(validate(body), `${operation} ${status} does not match its OpenAPI schema: ${JSON.stringify(validate.errors?.slice(0, 5))} in ${JSON.stringify(body)?.slice(0, 500)}`);
  }
}

/** The router's matching: any case, with or without a trailing slash. */
function patternOf(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${source}/?$`, 'i');
}

function escapePointer(part: string): string {
  return encodeURIComponent(part.replace(/~/g, '~0').replace(/\//g, '~1'));
}
