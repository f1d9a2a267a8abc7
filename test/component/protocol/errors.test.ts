import { z } from 'zod';
import { CdsError, invalidRequestFrom, toHttpError } from '../../../src/http/errors.js';

describe('toHttpError', () => {
  test('An unexpected error becomes a generic 500 that carries only the request id', () => {
    const http = toHttpError(new Error('db password is hunter2'), 'req-42');

    expect(http).toEqual({
      status: 500,
      internal: true,
      body: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'exception',
            diagnostics: 'Internal error (request id req-42)',
          },
        ],
      },
    });
  });

  test('A thrown non-Error value is also a generic 500', () => {
    expect(toHttpError('just a string').status).toBe(500);
    expect(toHttpError(undefined).body.issue[0]?.diagnostics).toBe('Internal error');
  });

  test('A CdsError keeps its status, code and per-field issues', () => {
    const error = new CdsError(
      'FHIR_DATA_UNAVAILABLE',
      'Required FHIR data could not be obtained',
      {
        issues: [{ path: 'prefetch.labs', message: 'timed out' }],
        issueType: 'timeout',
      },
    );

    expect(toHttpError(error)).toEqual({
      status: 412,
      internal: false,
      body: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'timeout',
            diagnostics: 'timed out',
            expression: ['prefetch.labs'],
          },
        ],
      },
    });
  });

  test.each([
    [{ type: 'entity.parse.failed', status: 400 }, 400, 'structure'],
    [{ type: 'entity.too.large', status: 413, limit: 2048 }, 413, 'too-long'],
    [{ type: 'charset.unsupported', status: 415 }, 415, 'not-supported'],
  ])('The body parser failure %j becomes %i', (error, status, code) => {
    const http = toHttpError(Object.assign(new Error('raw parser text'), error));

    expect(http.status).toBe(status);
    expect(http.body.issue[0]?.code).toBe(code);
    expect(http.body.issue[0]?.diagnostics).not.toContain('raw parser text');
  });

  test('Zod issues become one OperationOutcome issue per field, with dotted paths', () => {
    const schema = z.object({ a: z.array(z.object({ b: z.string() })), c: z.number() });
    const parsed = schema.safeParse({ a: [{ b: 1 }], c: 'x' });

    const error = invalidRequestFrom(parsed.error!, 'context');

    expect(error.status).toBe(400);
    expect(error.issues.map((issue) => issue.path)).toEqual(['context.a[0].b', 'context.c']);
    expect(error.message).toMatch(/^Invalid request body: context\.a\[0\]\.b: /);
  });
});
