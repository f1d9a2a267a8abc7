import fc from 'fast-check';

/*
 * Generators for the HTTP fuzz test: request paths, headers, raw bodies, and damage applied to
 * an otherwise valid patient-view call.
 */

// A closed loopback port: any FHIR call the fuzzer provokes fails fast and never leaves the host.
export const DEAD_FHIR = 'http://127.0.0.1:9/fhir';

// Printable ASCII without space or '#': what an HTTP client puts on a request line. A raw '#'
// never reaches the app: Node's HTTP parser drops such a connection before routing.
export const urlChar = fc.mapToConstant(
  { num: 94, build: (v) => (v === 2 ? '%23' : String.fromCharCode(33 + v)) },
  { num: 5, build: (v) => ['/', '%', '.', '?', '&'][v] ?? '/' },
);
export const segment = fc.oneof(
  fc.string({ unit: urlChar, maxLength: 12 }),
  fc.constantFrom('cds-services', 'liver-trends', 'feedback', '..', '%', '%zz', '%00', 'healthz'),
);
/**
 * Whether a request target resolves, as a URL parser reads it, to a path on our own origin. Targets
 * such as `//x` or `/\\x` name another authority; an HTTP interceptor that another test file in the
 * same worker may have loaded resolves targets that way and throws before the request is sent.
 */
function staysOnOrigin(target: string): boolean {
  const origin = 'http://127.0.0.1:1';
  return URL.canParse(target, origin) && new URL(target, origin).origin === origin;
}

export const path = fc
  .array(segment, { minLength: 0, maxLength: 5 })
  .map((parts) => `/${parts.join('/')}`)
  .filter(staysOnOrigin)
  .filter((p) => !/^\/metrics(?:[/?#]|$)/.test(p));

export const headerValue = fc.string({
  unit: fc.mapToConstant({ num: 95, build: (v) => String.fromCharCode(32 + v) }),
  maxLength: 40,
});
export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/fhir+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
);
export const headers = fc.record(
  {
    'content-type': contentType,
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zz'),
    authorization: fc.oneof(
      headerValue,
      fc.constant('Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.'),
    ),
    'x-request-id': headerValue,
    accept: fc.constantFrom('application/json', 'text/html', '*/*'),
  },
  { requiredKeys: [] },
);

export const rawBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom('{', '[', '{"hook":', 'null', '""', '1e999', '{"__proto__":{"x":1}}', '\u0000'),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

/** A valid patient-view call, then damaged in one to three places. */
export const anyJson = fc.anything({
  maxDepth: 2,
  withBigInt: false,
  withDate: false,
  withMap: false,
  withSet: false,
  withTypedArray: false,
  withSparseArray: true,
});
export const damage = fc.oneof(
  fc.record({
    at: fc.constantFrom(
      'hook',
      'hookInstance',
      'context',
      'prefetch',
      'fhirServer',
      'fhirAuthorization',
    ),
    value: anyJson,
  }),
  fc.record({
    at: fc.constantFrom('patient', 'labs', 'conditions', 'medications', 'imaging'),
    value: fc.oneof(anyJson, fc.constant(null)),
    inPrefetch: fc.constant(true),
  }),
  fc.record({
    at: fc.constant('observation'),
    index: fc.nat(20),
    field: fc.constantFrom(
      'valueQuantity',
      'effectiveDateTime',
      'code',
      'status',
      'referenceRange',
      'subject',
      'resourceType',
      'valueString',
    ),
    value: anyJson,
  }),
  fc.record({
    at: fc.constant('quantity'),
    index: fc.nat(20),
    value: fc.oneof(fc.double(), fc.constant(-1), fc.constant(0), fc.constant(1e308)),
    unit: fc.constantFrom('U/L', 'IU/L', 'mg/dL', 'umol/L', 'ukat/L', '%', '', 'banana', '[iU]/L'),
  }),
  fc.record({
    at: fc.constant('fhirServer'),
    value: fc.constantFrom(DEAD_FHIR, 'not a url', 'ftp://127.0.0.1/x', 42),
  }),
);

export function damageBody(
  body: Record<string, unknown>,
  damages: readonly Record<string, unknown>[],
): Record<string, unknown> {
  const prefetch = body.prefetch;
  for (const d of damages) {
    const at = String(d.at);
    if (d.inPrefetch === true && typeof prefetch === 'object' && prefetch !== null) {
      Reflect.set(prefetch, at, d.value);
    } else if (at === 'observation' || at === 'quantity') {
      const labs: unknown =
        typeof prefetch === 'object' && prefetch !== null
          ? Reflect.get(prefetch, 'labs')
          : undefined;
      const entries: unknown =
        typeof labs === 'object' && labs !== null ? Reflect.get(labs, 'entry') : undefined;
      if (!Array.isArray(entries) || entries.length === 0) {
        continue;
      }
      const entry: unknown = entries[Number(d.index) % entries.length];
      const resource: unknown =
        typeof entry === 'object' && entry !== null ? Reflect.get(entry, 'resource') : undefined;
      if (typeof resource !== 'object' || resource === null) {
        continue;
      }
      if (at === 'observation') {
        Reflect.set(resource, String(d.field), d.value);
      } else {
        Reflect.set(resource, 'valueQuantity', {
          value: d.value,
          unit: d.unit,
          code: d.unit,
          system: 'http://unitsofmeasure.org',
        });
      }
    } else {
      body[at] = d.value;
    }
  }
  return body;
}
