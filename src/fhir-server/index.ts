import type { RequestHandler } from 'express';
import { allOk, getStatus } from '@medplum/core';
import type { FhirRepository } from '@medplum/fhir-router';
import { FhirRouter } from '@medplum/fhir-router';
import { buildCapabilityStatement } from './capability-statement.js';
import type { DemoPatient, DemoTransaction } from './demo-bundle.js';
import { listDemoPatients, loadDemoBundle, splitTransaction } from './demo-bundle.js';
import { loadDefinitionsOnce } from './definitions.js';
import { createFhirHttpHandler } from './http-handler.js';
import { PagedRepository } from './paged-repository.js';

export type { DemoPatient } from './demo-bundle.js';
export { describeEmbeddedFhirServer } from './banner.js';
export interface EmbeddedFhirServerOptions {
  /** The externally visible base URL (e.g. `http://localhost:3000/fhir`); paging links and fullUrls use it. */
  baseUrl: string;
  /** The clock for demo dates ("120 days ago") and the CapabilityStatement date. */
  now: Date;
  /** Load the demo patients at start (default true). */
  seedDemo?: boolean;
  /** Refuse writes over HTTP once the demo data are loaded (default false). */
  readOnly?: boolean;
  /** Most resources stored, demo data included (default unlimited). */
  maxResources?: number;
  /** Largest request body accepted over HTTP (default 5 MB). */
  maxBodyBytes?: number;
}

export interface EmbeddedFhirServer {
  /** Mount at the path of `baseUrl` (e.g. `app.use('/fhir', handler)`). */
  handler: RequestHandler;
  demoPatients: DemoPatient[];
}

/**
 * A real FHIR R4 server in this process: Medplum's router, transaction processor and search matcher over
 * an in-memory repository. Data are lost on restart; any bearer token is accepted.
 */
export async function createEmbeddedFhirServer(
  opts: EmbeddedFhirServerOptions,
): Promise<EmbeddedFhirServer> {
  loadDefinitionsOnce();
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const repo = new PagedRepository(baseUrl, opts.maxResources);
  const router = new FhirRouter();
  const capabilityStatement = buildCapabilityStatement(baseUrl, opts.now);
  router.add('GET', 'metadata', async () => [allOk, capabilityStatement]);

  let demoPatients: DemoPatient[] = [];
  if (opts.seedDemo ?? true) {
    const bundle = loadDemoBundle(opts.now);
    for (const chunk of splitTransaction(bundle)) {
      await postTransaction(router, repo, chunk);
    }
    demoPatients = listDemoPatients(bundle);
  }
  // Read-only applies to HTTP only, so the demo load above still went in.
  const handler = createFhirHttpHandler(router, repo, {
    ...(opts.readOnly === undefined ? {} : { readOnly: opts.readOnly }),
    ...(opts.maxBodyBytes === undefined ? {} : { maxBodyBytes: opts.maxBodyBytes }),
  });
  return { handler, demoPatients };
}

/** Medplum's transactions are not atomic, so every entry's status is checked. */
async function postTransaction(
  router: FhirRouter,
  repo: FhirRepository,
  bundle: DemoTransaction,
): Promise<void> {
  const [outcome, response] = await router.handleRequest(
    { method: 'POST', url: '/', pathname: '', body: bundle, params: {}, query: {} },
    repo,
  );
  if (getStatus(outcome) >= 300 || response?.resourceType !== 'Bundle') {
    throw new Error(`Demo bundle rejected: ${JSON.stringify(outcome.issue ?? [])}`);
  }
  response.entry?.forEach((entry, i) => {
    const status = Number.parseInt(entry.response?.status ?? '', 10);
    if (!(status >= 200 && status < 300)) {
      const url = bundle.entry[i]?.request.url ?? `entry ${i}`;
      throw new Error(
        `Demo bundle entry ${url} failed with status ${entry.response?.status ?? '?'}`,
      );
    }
  });
}
