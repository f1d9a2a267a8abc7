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
  | { kind: 'no-value'; token: string }
  /** A token in the URL path holds something other than a FHIR id, e.g. `../Group/1`. */
  | { kind: 'invalid-value'; token: string };

/** FHIR R4 id; a run of dots alone is refused too, since `.` and `..` are path segments in a URL. */
const FHIR_ID = /^(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;
/** `Type/id`, the one multi-segment value allowed in a path (`{{context.userId}}`). */
const TYPE_AND_ID = /^[A-Z][A-Za-z]{0,63}\/(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;

export function isFhirId(value: string): boolean {
  return FHIR_ID.test(value);
}

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
 * Replaces every token with its value from the request context. In the path (before `?`) a value
 * must be a FHIR id or a `Type/id` reference, so nothing like `../` can climb out of the FHIR base;
 * in the query it is percent-encoded except for `/`, so a stray `&` cannot add parameters.
 */
export function resolvePrefetchTemplate(
  template: string,
  context: Readonly<Record<string, unknown>>,
): ResolvedTemplate {
  let missing: string | undefined;
  let invalid: string | undefined;
  const queryStart = template.indexOf('?');
  const query = template.replace(TOKEN, (_whole, rawToken: string, offset: number) => {
    const value = valueOf(rawToken, context);
    if (value === undefined) {
      missing ??= rawToken;
      return '';
    }
    const inPath = queryStart < 0 || offset < queryStart;
    if (inPath && !FHIR_ID.test(value) && !TYPE_AND_ID.test(value)) {
      invalid ??= rawToken;
      return '';
    }
    return encodeURIComponent(value).replace(/%2F/gi, '/');
  });
  if (invalid !== undefined) {
    return { kind: 'invalid-value', token: invalid };
  }
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
  // The id lands in a path (`Practitioner/{{userPractitionerId}}`): only a FHIR id may stand there.
  return type === resourceType && id !== undefined && FHIR_ID.test(id) && rest.length === 0
    ? id
    : undefined;
}
