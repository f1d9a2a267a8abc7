import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceInteraction,
} from '@medplum/fhirtypes';
import { getResourceTypes } from '@medplum/core';
import { listSupportedSearchParameters } from './paged-repository.js';

const RESOURCE_INTERACTIONS: CapabilityStatementRestResourceInteraction['code'][] = [
  'read',
  'vread',
  'update',
  'patch',
  'delete',
  'history-instance',
  'create',
  'search-type',
];

/**
 * Describes what this in-memory server really does: JSON only, no security, and only the search parameters
 * whose types the matcher evaluates (string, token, reference, uri, date).
 * @see https://hl7.org/fhir/R4/capabilitystatement.html
 */
export function buildCapabilityStatement(baseUrl: string, now: Date): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = getResourceTypes()
    .filter((type) => type !== 'Binary')
    .map((type) => ({
      type,
      interaction: RESOURCE_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned',
      updateCreate: true,
      searchParam: listSupportedSearchParameters(type).map((p) => ({
        name: p.code ?? p.name,
        type: p.type,
        definition: p.url,
      })),
    }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now.toISOString(),
    kind: 'instance',
    software: { name: 'Hepatic Trends embedded FHIR server (in-memory)' },
    implementation: {
      description: 'In-memory demo FHIR server; data are lost on restart',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Any bearer token is accepted and none is checked: for demos and tests only.',
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        resource,
      },
    ],
  };
}
