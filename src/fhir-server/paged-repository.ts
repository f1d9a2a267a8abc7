import type {
  Bundle,
  BundleEntry,
  BundleLink,
  OperationOutcome,
  Resource,
  SearchParameter,
} from '@medplum/fhirtypes';
import type { Filter, SearchRequest, WithId } from '@medplum/core';
import {
  badRequest,
  evalFhirPath,
  formatSearchQuery,
  globalSchema,
  isReference,
  isResourceType,
  Operator,
  OperationOutcomeError,
} from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;

/** Parameter types the in-memory matcher evaluates, with the operators (prefixes/modifiers) it honours. */
const SUPPORTED_OPERATORS: Readonly<Record<string, readonly Operator[]>> = {
  token: [Operator.EQUALS, Operator.NOT],
  reference: [Operator.EQUALS, Operator.NOT],
  // Medplum's in-memory string match is "contains", not FHIR's default "starts with"; `:exact` would be wrong.
  string: [Operator.EQUALS, Operator.CONTAINS],
  uri: [Operator.EQUALS],
  date: [
    Operator.EQUALS,
    Operator.NOT_EQUALS,
    Operator.GREATER_THAN,
    Operator.LESS_THAN,
    Operator.GREATER_THAN_OR_EQUALS,
    Operator.LESS_THAN_OR_EQUALS,
    Operator.STARTS_AFTER,
    Operator.ENDS_BEFORE,
    Operator.APPROXIMATELY,
  ],
};

/** Search parameters the in-memory server can honour for a resource type (used by the CapabilityStatement). */
export function listSupportedSearchParameters(resourceType: string): SearchParameter[] {
  const params = globalSchema.types[resourceType]?.searchParams ?? {};
  return Object.values(params).filter((p) => p.type in SUPPORTED_OPERATORS);
}

/**
 * Medplum's MemoryRepository made to behave like a real server towards a CDS client: a default page size,
 * `self`/`next`/`previous` links, `fullUrl` and `search.mode` on entries, and 400 (as HAPI answers) rather
 * than a silently empty or wrong result for parameters the in-memory matcher cannot evaluate.
 * @see https://hl7.org/fhir/R4/http.html#paging
 */
export class PagedRepository extends MemoryRepository {
  /** `Type/id` of every stored resource, to hold the total under `maxResources`. */
  private readonly stored = new Set<string>();

  constructor(
    private readonly baseUrl: string,
    private readonly maxResources = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  get size(): number {
    return this.stored.size;
  }

  override async createResource<T extends Resource>(resource: T): Promise<WithId<T>> {
    this.assertRoomFor(
      resource.id === undefined ? undefined : `${resource.resourceType}/${resource.id}`,
    );
    const created = await super.createResource(resource);
    this.stored.add(`${created.resourceType}/${created.id}`);
    return created;
  }

  override async updateResource<T extends Resource>(
    resource: T,
    options?: Parameters<MemoryRepository['updateResource']>[1],
  ): Promise<WithId<T>> {
    this.assertRoomFor(`${resource.resourceType}/${resource.id ?? ''}`);
    const updated = await super.updateResource(resource, options);
    this.stored.add(`${updated.resourceType}/${updated.id}`);
    return updated;
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    await super.deleteResource(resourceType, id);
    this.stored.delete(`${resourceType}/${id}`);
  }

  /** A new resource is refused once the store is full; an existing one may still be updated. */
  private assertRoomFor(key: string | undefined): void {
    if ((key === undefined || !this.stored.has(key)) && this.stored.size >= this.maxResources) {
      throw new OperationOutcomeError(storageFull(this.maxResources));
    }
  }

  override async search<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    const { resourceType } = request;
    if (!isResourceType(resourceType)) {
      throw new OperationOutcomeError(badRequest(`Unknown resource type "${resourceType}"`));
    }
    const filters = request.filters?.map((filter) => normalizeFilter(resourceType, filter));
    validateSortRules(resourceType, request);
    if (request.revInclude?.length) {
      throw new OperationOutcomeError(badRequest('_revinclude is not supported by this server'));
    }
    const count = clampInteger('_count', request.count ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const offset = clampInteger('_offset', request.offset ?? 0, Number.MAX_SAFE_INTEGER);
    const page = { ...request, filters, count, offset };

    const bundle = await super.search<T>({
      ...page,
      // Stock sorting applies the keys one after another, so the last key ends up primary: reverse them.
      sortRules: request.sortRules && [...request.sortRules].reverse(),
    });
    const total = bundle.total ?? 0;
    const matches: BundleEntry<WithId<T>>[] = (bundle.entry ?? []).map((entry) => ({
      ...entry,
      fullUrl: entry.resource && `${this.baseUrl}/${resourceType}/${entry.resource.id}`,
      search: { mode: 'match' },
    }));
    // Included resources are of other types; Medplum's Bundle<T> typing has no room for them.
    const included = (await this.readIncludes(request, matches)) as BundleEntry<WithId<T>>[];
    return {
      ...bundle,
      entry: matches.length + included.length ? [...matches, ...included] : undefined,
      link: this.buildLinks(page, total),
    };
  }

  private buildLinks(
    page: SearchRequest & { count: number; offset: number },
    total: number,
  ): BundleLink[] {
    const link = (relation: string, offset: number): BundleLink => ({
      relation,
      url: `${this.baseUrl}/${page.resourceType}${formatSearchQuery({ ...page, offset: offset || undefined })}`,
    });
    const links = [link('self', page.offset)];
    if (page.count > 0 && page.offset + page.count < total) {
      links.push(link('next', page.offset + page.count));
    }
    if (page.count > 0 && page.offset > 0) {
      links.push(link('previous', Math.max(page.offset - page.count, 0)));
    }
    return links;
  }

  /** `_include` for plain references, so a client that asks for it is not silently short of data. */
  private async readIncludes<T extends Resource>(
    request: SearchRequest<T>,
    matches: BundleEntry<WithId<T>>[],
  ): Promise<BundleEntry[]> {
    const seen = new Set<string>();
    const entries: BundleEntry[] = [];
    for (const target of request.include ?? []) {
      const param = globalSchema.types[target.resourceType]?.searchParams?.[target.searchParam];
      if (param?.type !== 'reference' || !param.expression) {
        throw new OperationOutcomeError(badRequest(`Invalid _include "${target.searchParam}"`));
      }
      for (const match of matches) {
        for (const value of evalFhirPath(param.expression, match.resource)) {
          const reference = isReference(value) ? value.reference : undefined;
          if (!reference || seen.has(reference)) {
            continue;
          }
          if (target.targetType && !reference.startsWith(`${target.targetType}/`)) {
            continue;
          }
          seen.add(reference);
          const resource = await this.readReference({ reference }).catch(() => undefined);
          if (resource) {
            entries.push({
              fullUrl: `${this.baseUrl}/${reference}`,
              resource,
              search: { mode: 'include' },
            });
          }
        }
      }
    }
    return entries;
  }
}

/** `too-costly`: the HTTP handler answers it with 507 Insufficient Storage. */
export function storageFull(maxResources: number): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: 'too-costly',
        details: {
          text: `This server stores at most ${maxResources} resources (EMBEDDED_FHIR_MAX_RESOURCES)`,
        },
      },
    ],
  };
}

/** Like HAPI, a `_count` above the maximum is clamped silently; a non-number is a client error. */
function clampInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new OperationOutcomeError(badRequest(`${name} must be a non-negative integer`));
  }
  return Math.min(value, max);
}

function normalizeFilter(resourceType: string, filter: Filter): Filter {
  const param = globalSchema.types[resourceType]?.searchParams?.[filter.code];
  if (!param) {
    throw new OperationOutcomeError(
      badRequest(`Unknown search parameter "${filter.code}" for resource type "${resourceType}"`),
    );
  }
  if (filter.operator === Operator.MISSING || filter.operator === Operator.PRESENT) {
    return filter;
  }
  const operators = SUPPORTED_OPERATORS[param.type];
  if (!operators) {
    throw new OperationOutcomeError(
      badRequest(
        `Search parameter "${filter.code}" (${param.type}) is not supported by this server`,
      ),
    );
  }
  if (!operators.includes(filter.operator)) {
    throw new OperationOutcomeError(
      badRequest(`Modifier or prefix "${filter.operator}" is not supported on "${filter.code}"`),
    );
  }
  return param.type === 'reference' ? qualifyBareIds(param, filter) : filter;
}

/** HAPI accepts `patient=123`; the in-memory matcher only matches `Patient/123`. */
function qualifyBareIds(param: SearchParameter, filter: Filter): Filter {
  const targets = param.target ?? [];
  if (targets.length !== 1) {
    return filter;
  }
  const value = filter.value
    .split(',')
    .map((v) => (v && !v.includes('/') && !v.includes(':') ? `${targets[0]}/${v}` : v))
    .join(',');
  return { ...filter, value };
}

function validateSortRules(resourceType: string, request: SearchRequest): void {
  for (const rule of request.sortRules ?? []) {
    const param = globalSchema.types[resourceType]?.searchParams?.[rule.code];
    if (!param || !(param.type in SUPPORTED_OPERATORS)) {
      throw new OperationOutcomeError(
        badRequest(`Unknown or unsupported _sort parameter "${rule.code}" for "${resourceType}"`),
      );
    }
  }
}
