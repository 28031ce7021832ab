import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { badRequest, type QuireError } from '../../core/errors.ts';

/**
 * Checking requests against the route schemas (schemas.ts). Fastify checks the path and the query before the handler
 * runs (after sign-in: the API's hooks run at preValidation); Quire reads JSON bodies itself, after sign-in and within
 * its size limit (json-body.ts), and checks them here against the same route's body schema. A refusal is a 400 whose
 * reason names the field, in the words the handlers' own checks use.
 */

const COMMON: Options = { allErrors: false, allowUnionTypes: true, verbose: true };

function withFormats(ajv: Ajv): Ajv {
  addFormats.default(ajv);
  // a download's bytes: a description for OpenAPI, nothing to check
  ajv.addFormat('binary', true);
  return ajv;
}

/** Path and query values arrive as text: coerced as Fastify's own validator does. */
const partsAjv = withFormats(new Ajv({ ...COMMON, coerceTypes: 'array', useDefaults: true, removeAdditional: true }));
/** JSON bodies are checked as sent: a "true" is not true. */
const bodyAjv = withFormats(new Ajv(COMMON));

const bodyChecks = new WeakMap<object, ValidateFunction>();

function bodyCheck(schema: object): ValidateFunction {
  let check = bodyChecks.get(schema);
  if (!check) {
    check = bodyAjv.compile(schema);
    bodyChecks.set(schema, check);
  }
  return check;
}

/**
 * The API's validator compiler. Bodies are compiled here (so a broken schema fails at start) but checked only when
 * the handler reads the body: Quire parses no body before its route asks for it, and uploads stay streams.
 */
export const compileRequestSchema: FastifySchemaCompiler<object> = ({ schema, httpPart, contentType }) => {
  if (httpPart === 'body') {
    if (contentType === undefined) bodyCheck(schema);
    return () => true;
  }
  return partsAjv.compile(schema);
};

/** Throws a 400 naming the field when `value`, the request's JSON body, does not fit its route's body schema. */
export function checkJsonBody(request: FastifyRequest, value: unknown): void {
  const schema = request.routeOptions.schema?.body;
  if (!schema || typeof schema !== 'object' || 'content' in schema) return;
  const check = bodyCheck(schema);
  if (!check(value)) throw badRequest(reasonOf(check.errors ?? [], 'body'));
}

/** Fastify's refusals of a path or query, as Quire's: a QuireError with the reason (see http/errors.ts). */
export const schemaErrorOf: Parameters<FastifyInstance['setSchemaErrorFormatter']>[0] = (errors, part): QuireError =>
  badRequest(reasonOf(errors as Problem[], part));

/** What a refusal's reason is made from: Ajv's error, with the schema it broke (Ajv's `verbose`). */
type Problem = Pick<ErrorObject, 'keyword' | 'instancePath' | 'params' | 'message' | 'parentSchema' | 'data'>;

const WHERE: Record<string, string> = {
  querystring: ' (in the query)',
  params: ' (in the path)',
  headers: ' (header)',
};

const A_TYPE: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** "a, b or c" */
const either = (words: string[]) =>
  words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;

/** `/user/id` → `user.id`; `/scopes/0` → `scopes[0]`. */
function fieldOf(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '');
}

/** One reason for a refusal, naming the field: the first problem, or the choice of forms the value fits none of. */
export function reasonOf(problems: readonly Problem[], part: string): string {
  // an anyOf lists each branch's problem before its own: the value fits none of the forms, which says it best
  const problem = problems.find((p) => p.keyword === 'anyOf' || p.keyword === 'oneOf') ?? problems[0];
  if (!problem) return `the ${part} is not valid`;
  const where = WHERE[part] ?? '';
  const params = problem.params as Record<string, unknown>;
  const title = titleOf(problem);
  if (problem.keyword === 'required') {
    const field = fieldOf(`${problem.instancePath}/${String(params.missingProperty)}`);
    return `"${field}"${where} is required`;
  }
  const field = fieldOf(problem.instancePath);
  if (field === '') return part === 'body' ? `the body must be ${describe(problem)}` : `the ${part} is not valid`;
  if (problem.keyword === 'enum' && title !== undefined) {
    return `unknown ${title} ${JSON.stringify(problem.data)} in "${field}"${where}; known: ${(params.allowedValues as unknown[]).join(', ')}`;
  }
  return `"${field}"${where} must be ${describe(problem)}`;
}

const titleOf = (problem: Problem): string | undefined =>
  typeof problem.parentSchema?.title === 'string' ? problem.parentSchema.title : undefined;

function describe(problem: Problem): string {
  const params = problem.params as Record<string, unknown>;
  const title = titleOf(problem);
  switch (problem.keyword) {
    case 'type': {
      const types = String(params.type).split(',');
      return either(types.map((t) => A_TYPE[t] ?? t));
    }
    case 'enum':
      return `one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'minLength':
      return params.limit === 1 ? 'non-empty text' : `at least ${params.limit} characters`;
    case 'maxLength':
      return `at most ${params.limit} characters`;
    case 'minimum':
      return `at least ${params.limit}`;
    case 'maximum':
      return `at most ${params.limit}`;
    case 'pattern':
    case 'anyOf':
    case 'oneOf':
      return title ?? 'in another form';
    case 'format':
      return `a ${String(params.format)}`;
    default:
      return problem.message ?? 'valid';
  }
}
