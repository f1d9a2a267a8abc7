import express from 'express';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { badRequest, getStatus, isResourceType, normalizeOperationOutcome } from '@medplum/core';
import type { FhirRepository, FhirRouter, HttpMethod } from '@medplum/fhir-router';

const FHIR_JSON = 'application/fhir+json';
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
// Transactions of a few hundred lab results fit easily; this is a demo server, not a bulk endpoint.
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface FhirHttpHandlerOptions {
  /** Largest request body accepted; larger ones get 413 (on the declared length, unread). */
  maxBodyBytes?: number;
  /** Refuse every write (searches by POST stay allowed). */
  readOnly?: boolean;
}

/**
 * The HTTP face of the in-memory server, meant to be mounted (e.g. at `/fhir`): it sees `req.url` relative
 * to the mount. Authorization headers are accepted, never checked and never logged.
 * @see https://hl7.org/fhir/R4/http.html
 */
export function createFhirHttpHandler(
  router: FhirRouter,
  repo: FhirRepository,
  options: FhirHttpHandlerOptions = {},
): express.Router {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handler = express.Router();
  handler.use((req, res, next) => {
    const isSearch = req.method === 'POST' && /\/_search(\?|$)/.test(req.url);
    if (options.readOnly === true && req.method !== 'GET' && req.method !== 'HEAD' && !isSearch) {
      res.set({ Allow: 'GET, HEAD, POST (_search only)', Connection: 'close' });
      sendOutcome(res, 405, {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'not-supported',
            details: { text: 'This demo FHIR server is read-only (EMBEDDED_FHIR_READONLY=true)' },
          },
        ],
      });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? '');
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      res.set('Connection', 'close');
      sendOutcome(res, 413, tooLarge(maxBodyBytes));
      return;
    }
    next();
  });
  handler.use(
    express.json({
      type: ['application/json', FHIR_JSON, 'application/json-patch+json'],
      limit: maxBodyBytes,
    }),
  );
  handler.use(express.urlencoded({ extended: false, limit: maxBodyBytes }));
  handler.use(async (req: Request, res: Response) => {
    const method = METHODS.find((m) => m === req.method);
    if (!method) {
      sendOutcome(res, 405, badRequest(`Method ${req.method} is not supported`));
      return;
    }
    const url = qualifyTypedReferenceParams(req.url);
    const isFormSearch = method === 'POST' && /\/_search(\?|$)/.test(url);
    const body: unknown = isFormSearch ? mergeSearchForm(url, req.body) : req.body;
    try {
      const [outcome, resource] = await router.handleRequest(
        { method, url, pathname: '', body, params: {}, query: {}, headers: req.headers },
        repo,
      );
      res
        .status(statusOf(outcome))
        .type(FHIR_JSON)
        .send(JSON.stringify(resource ?? outcome));
    } catch (err) {
      const outcome = normalizeOperationOutcome(err);
      sendOutcome(res, statusOf(outcome), outcome);
    }
  });
  const onBodyError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof Error && Reflect.get(err, 'type') === 'entity.too.large') {
      sendOutcome(res, 413, tooLarge(maxBodyBytes));
      return;
    }
    const message = err instanceof Error ? err.message : 'Unreadable request body';
    sendOutcome(res, 400, badRequest(message));
  };
  handler.use(onBodyError);
  return handler;
}

/** Medplum has no status for a full store; 507 says the request was fine but cannot be kept. */
function statusOf(outcome: OperationOutcome): number {
  return outcome.issue?.[0]?.code === 'too-costly' ? 507 : getStatus(outcome);
}

function tooLarge(maxBodyBytes: number): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'too-long',
        details: { text: `Request body is larger than the limit of ${maxBodyBytes} bytes` },
      },
    ],
  };
}

function sendOutcome(res: Response, status: number, outcome: OperationOutcome): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(outcome));
}

/**
 * Medplum's parser drops a reference type modifier (`subject:Patient=123` would search `subject=123`), so
 * the modifier is folded into the value, which is what it means: `subject=Patient/123`.
 */
function qualifyTypedReferenceParams(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart < 0 || !/:|%3a/i.test(url.slice(queryStart))) {
    return url;
  }
  const params = new URLSearchParams(url.slice(queryStart + 1));
  let changed = false;
  const rewritten = new URLSearchParams();
  for (const [key, value] of params) {
    const [code, modifier] = key.split(':');
    if (code && modifier && isResourceType(modifier) && !value.includes('/')) {
      rewritten.append(code, `${modifier}/${value}`);
      changed = true;
    } else {
      rewritten.append(key, value);
    }
  }
  return changed ? `${url.slice(0, queryStart)}?${rewritten.toString()}` : url;
}

/** `POST [type]/_search` takes its parameters from the form body and the query string together. */
function mergeSearchForm(url: string, form: unknown): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  const add = (key: string, value: unknown): void => {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v === 'string') {
        (merged[key] ??= []).push(v);
      }
    }
  };
  const queryStart = url.indexOf('?');
  if (queryStart >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(queryStart + 1))) {
      add(key, value);
    }
  }
  if (typeof form === 'object' && form !== null) {
    for (const [key, value] of Object.entries(form)) {
      add(key, value);
    }
  }
  return merged;
}
