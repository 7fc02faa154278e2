/**
 * The `$connect` REQUEST authorizer flow, as the AWS page "Control access to WebSocket APIs with AWS Lambda REQUEST authorizers" describes it:
 * missing identity source → 401 without invoking; error `Unauthorized` → 401; any other error → 500;
 * Deny (or no Allow for the method ARN) → 403; Allow → the context goes on to every route.
 */
import { headerValue, type RequestInfo } from './events.js';

type IdentitySource = { kind: 'querystring' | 'header'; name: string };

/** Parses `route.request.querystring.token, route.request.header.Auth`; throws on anything else. */
export function parseIdentitySource(text: string): IdentitySource[] {
  const sources = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part): IdentitySource => {
      const match = /^route\.request\.(querystring|header)\.(.+)$/.exec(part);
      const kind = match?.[1];
      const name = match?.[2];
      if ((kind !== 'querystring' && kind !== 'header') || !name) {
        throw new Error(`unsupported identity source "${part}" (route.request.querystring.X or .header.X)`);
      }
      return { kind, name };
    });
  if (sources.length === 0) throw new Error('authorizer.identitySource is empty');
  return sources;
}

/** AWS answers 401 without calling the authorizer when a source is missing, null or empty (A1, A4). */
export function identityPresent(sources: IdentitySource[], req: RequestInfo): boolean {
  return sources.every((source) => {
    const value = source.kind === 'header' ? headerValue(req, source.name) : req.query?.single[source.name];
    return value !== undefined && value !== '';
  });
}

export type AuthOutcome =
  | { ok: true; principalId: string; context: Record<string, string> }
  | { ok: false; status: 401 | 403 | 500; reason: string };

/** AWS quota "AWS Lambda authorizer result size": 8 KB, not adjustable. */
const MAX_RESULT_BYTES = 8 * 1024;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** IAM-style wildcard match (`*` any run, `?` one character) on resources and actions. */
function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function statementApplies(statement: Record<string, unknown>, methodArn: string): boolean {
  const actions = asList(statement.Action).filter((a): a is string => typeof a === 'string');
  const resources = asList(statement.Resource).filter((r): r is string => typeof r === 'string');
  return (
    actions.some((action) => wildcardMatch(action, 'execute-api:Invoke', true)) &&
    resources.some((resource) => wildcardMatch(resource, methodArn, false))
  );
}

/** Evaluates what the authorizer returned against the `$connect` method ARN. */
export function evaluateAuthorizerResult(result: unknown, methodArn: string): AuthOutcome {
  if (!isRecord(result)) return { ok: false, status: 500, reason: 'authorizer result is not an object' };
  if (Buffer.byteLength(JSON.stringify(result)) > MAX_RESULT_BYTES) {
    return { ok: false, status: 500, reason: 'authorizer result is larger than 8 KB' };
  }
  const { principalId, policyDocument, context } = result;
  if (typeof principalId !== 'string' && typeof principalId !== 'number') {
    return { ok: false, status: 500, reason: 'authorizer result has no principalId' };
  }
  if (!isRecord(policyDocument) || policyDocument.Statement === undefined) {
    return { ok: false, status: 500, reason: 'authorizer result has no policyDocument.Statement' };
  }
  const statements = asList(policyDocument.Statement).filter(isRecord);
  const applying = statements.filter((statement) => statementApplies(statement, methodArn));
  // IAM evaluation: an explicit Deny wins; without an Allow the request is implicitly denied.
  if (applying.some((s) => s.Effect === 'Deny')) return { ok: false, status: 403, reason: 'explicit deny' };
  if (!applying.some((s) => s.Effect === 'Allow')) return { ok: false, status: 403, reason: 'no Allow' };

  const flat: Record<string, string> = {};
  if (context !== undefined && context !== null) {
    if (!isRecord(context)) return { ok: false, status: 500, reason: 'authorizer context is not an object' };
    for (const [key, value] of Object.entries(context)) {
      if (value === null || value === undefined) continue;
      // A2: "you cannot set a JSON object or array as a valid value of any key in the context map";
      // the values that are allowed reach the integration stringified ("The returned values are all
      // stringified").
      if (typeof value === 'object') {
        return { ok: false, status: 500, reason: `authorizer context "${key}" is an object or array` };
      }
      flat[key] = String(value);
    }
  }
  return { ok: true, principalId: String(principalId), context: flat };
}

/** A failing authorizer: exactly `Unauthorized` means 401 (A3 `callback("Unauthorized")`), else 500. */
export function authorizerErrorOutcome(err: unknown): AuthOutcome {
  // What API Gateway compares is the Lambda's `errorMessage`: a bundle run by local/lambda fails with a
  // LambdaInvocationError whose `message` is "Error: Unauthorized" but whose `errorMessage` is the
  // handler's own "Unauthorized". Plain in-process integrations throw an Error with that message.
  const message =
    typeof err === 'object' && err !== null && 'errorMessage' in err && typeof err.errorMessage === 'string'
      ? err.errorMessage
      : err instanceof Error
        ? err.message
        : String(err);
  return message === 'Unauthorized'
    ? { ok: false, status: 401, reason: 'authorizer said Unauthorized' }
    : { ok: false, status: 500, reason: `authorizer failed: ${message}` };
}
