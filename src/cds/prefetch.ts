/*
 * Prefetch template tokens. A token is `{{context.<field>}}` (a root-level primitive of the hook
 * context) or one of the user tokens derived from `context.userId`.
 * @see https://cds-hooks.hl7.org/2.0/#prefetch-tokens
 */

const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const CONTEXT_TOKEN = /^context\.([A-Za-z0-9_-]+)$/;

/** User tokens and the resource type `context.userId` must name for each to have a value. */
const USER_TOKENS: Readonly<Record<string, string>> = {
  userPractitionerId: 'Practitioner',
  userPractitionerRoleId: 'PractitionerRole',
  userPatientId: 'Patient',
  userRelatedPersonId: 'RelatedPerson',
};

export type ResolvedTemplate =
  | { kind: 'query'; query: string }
  /** A token has no value in this call (e.g. an optional context field, or a user of another type). */
  | { kind: 'no-value'; token: string };

/** Tokens a template uses that no hook context could ever fill; empty when the template is sound. */
export function findInvalidTokens(template: string): string[] {
  const invalid: string[] = [];
  for (const match of template.matchAll(TOKEN)) {
    const token = match[1] ?? '';
    if (!CONTEXT_TOKEN.test(token) && !Object.hasOwn(USER_TOKENS, token)) {
      invalid.push(token);
    }
  }
  return invalid;
}

/**
 * Replaces every token with its value from the request context. Values are percent-encoded except
 * for `/`, so `{{context.userId}}` still forms a `Type/id` read while a stray `&` cannot add query
 * parameters.
 */
export function resolvePrefetchTemplate(
  template: string,
  context: Readonly<Record<string, unknown>>,
): ResolvedTemplate {
  let missing: string | undefined;
  const query = template.replace(TOKEN, (_whole, rawToken: string) => {
    const value = valueOf(rawToken, context);
    if (value === undefined) {
      missing ??= rawToken;
      return '';
    }
    return encodeURIComponent(value).replace(/%2F/gi, '/');
  });
  return missing === undefined ? { kind: 'query', query } : { kind: 'no-value', token: missing };
}

/** True when the query reads one resource by id (`Patient/123`) rather than searching. */
export function isReadQuery(query: string): boolean {
  return /^\/?[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(query);
}

function valueOf(token: string, context: Readonly<Record<string, unknown>>): string | undefined {
  const contextField = CONTEXT_TOKEN.exec(token)?.[1];
  if (contextField !== undefined) {
    const value = context[contextField];
    // Only primitives can stand in a URL; objects and arrays are not valid token targets.
    if (typeof value === 'string') {
      return value === '' ? undefined : value;
    }
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
  }
  const resourceType = Object.hasOwn(USER_TOKENS, token) ? USER_TOKENS[token] : undefined;
  const userId = context.userId;
  if (resourceType === undefined || typeof userId !== 'string') {
    return undefined;
  }
  const [type, id, ...rest] = userId.split('/');
  return type === resourceType && id !== undefined && id !== '' && rest.length === 0
    ? id
    : undefined;
}
