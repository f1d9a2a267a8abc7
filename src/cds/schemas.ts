import { z } from 'zod';
import { isFhirResource, isRecord } from '../fhir/guards.js';

/*
 * CDS Hooks 2.0 wire formats, written from the field tables of the specification.
 * Requests are parsed leniently where the spec allows extension; everything this service emits is
 * checked strictly, because a card that does not match the spec is a bug on our side.
 */

const LOWERCASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const HttpUrlSchema = z
  .string()
  .max(2048, { error: 'must be at most 2048 characters' })
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }));

/** Caps on free strings from clients: generous for real values, small enough to bound memory. */
export const STRING_LIMITS = {
  /** Codes, ids, token types and other short tokens. */
  short: 256,
  /** URLs, displays, scopes. */
  medium: 2048,
  /** OAuth access tokens (JWTs with many claims run to a few kB). */
  accessToken: 16_384,
  /** `overrideReason.userComment`, in UTF-8 bytes. */
  userCommentBytes: 4096,
  timestamp: 64,
} as const;

const shortString = () =>
  z
    .string()
    .max(STRING_LIMITS.short, { error: `must be at most ${STRING_LIMITS.short} characters` });
const mediumString = () =>
  z
    .string()
    .max(STRING_LIMITS.medium, { error: `must be at most ${STRING_LIMITS.medium} characters` });

/**
 * A FHIR R4 id. `.` and `..` alone are refused although the id grammar admits them: they are path
 * segments in a URL and would climb out of the FHIR base.
 * @see https://hl7.org/fhir/R4/datatypes.html#id
 */
export const FhirIdSchema = z.string().regex(/^(?!\.+$)[A-Za-z0-9\-.]{1,64}$/, {
  error: 'must be a FHIR id (1-64 of A-Z, a-z, 0-9, "-", ".")',
});

/** Any FHIR resource: a JSON object with a non-empty `resourceType`; its content is not validated here. */
export const FhirResourceSchema = z.custom<fhir4.Resource>(isFhirResource, {
  error: 'must be a FHIR resource (a JSON object with a string resourceType)',
});

/** A uuid in canonical lowercase form, as this service mints them for cards and suggestions. */
export const LowercaseUuidSchema = z
  .string()
  .regex(LOWERCASE_UUID, { error: 'must be a lowercase UUID (8-4-4-4-12 hex digits)' });

/**
 * Extension members; keys SHOULD be namespaced (e.g. reverse domain names).
 * @see https://cds-hooks.hl7.org/2.0/#extensions
 */
export const ExtensionSchema = z.record(z.string(), z.unknown());

/**
 * @see https://cds-hooks.hl7.org/2.0/#coding
 */
export const CodingSchema = z.object({
  code: shortString().min(1),
  system: mediumString().min(1),
  display: mediumString().min(1).optional(),
});

/**
 * Authorization the CDS client grants us for calls to its FHIR server.
 * @see https://cds-hooks.hl7.org/2.0/#passing-the-access-token-to-the-cds-service
 */
export const FhirAuthorizationSchema = z.object({
  access_token: z
    .string()
    .min(1)
    .max(STRING_LIMITS.accessToken, {
      error: `must be at most ${STRING_LIMITS.accessToken} characters`,
    }),
  token_type: z.literal('Bearer', { error: "must be 'Bearer'" }),
  expires_in: z.number().int().nonnegative(),
  scope: mediumString().min(1),
  subject: shortString().min(1),
  /** Present when the granted scopes are patient/ scopes: the one patient the token is limited to. */
  patient: FhirIdSchema.optional(),
});

/** One prefetch value: a resource (often a searchset Bundle), or null when the client found nothing. */
export const PrefetchValueSchema = FhirResourceSchema.nullable();

/**
 * The body of `POST /cds-services/{id}`.
 * @see https://cds-hooks.hl7.org/2.0/#http-request_1
 */
export const CdsRequestSchema = z
  .object({
    hook: shortString().min(1),
    // Any 8-4-4-4-12 hex value is accepted; clients differ on UUID versions and letter case.
    hookInstance: z.guid({
      error: (issue) => (issue.input === undefined ? 'is required' : 'must be a UUID'),
    }),
    fhirServer: HttpUrlSchema.optional(),
    fhirAuthorization: FhirAuthorizationSchema.optional(),
    context: z.record(z.string(), z.unknown()),
    prefetch: z.record(z.string(), PrefetchValueSchema).optional(),
    extension: ExtensionSchema.optional(),
  })
  .superRefine((request, ctx) => {
    // Every hook's patientId ends up in FHIR URLs: whatever the hook, it must be a FHIR id.
    const patientId = request.context.patientId;
    if (patientId !== undefined && !FhirIdSchema.safeParse(patientId).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['context', 'patientId'],
        message: 'must be a FHIR id (1-64 of A-Z, a-z, 0-9, "-", ".")',
      });
    }
    // A token limited to one patient (SMART patient/ scopes) that is not the patient in context
    // would fetch someone else's record.
    const tokenPatient = request.fhirAuthorization?.patient;
    if (tokenPatient !== undefined && patientId !== undefined && tokenPatient !== patientId) {
      ctx.addIssue({
        code: 'custom',
        path: ['fhirAuthorization', 'patient'],
        message: 'must be context.patientId when present',
      });
    }
    if (request.fhirAuthorization !== undefined && request.fhirServer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fhirServer'],
        message: 'is required when fhirAuthorization is present',
      });
    }
  });

/**
 * `patient-view` context.
 * @see https://cds-hooks.org/hooks/patient-view/
 */
export const PatientViewContextSchema = z.object({
  userId: z
    .string()
    .regex(
      /^(Practitioner|PractitionerRole|Patient|RelatedPerson)\/(?!\.+$)[A-Za-z0-9\-.]{1,64}$/,
      {
        error: 'must be a reference such as Practitioner/123',
      },
    ),
  patientId: FhirIdSchema,
  encounterId: FhirIdSchema.optional(),
});

/** `[Type/]id` of a resource in `draftOrders`, as `selections` names it. */
const DRAFT_ORDER_REFERENCE = /^[A-Z][A-Za-z]{0,63}\/(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;

/** The draft orders a CDS client sends: a Bundle of resources (entries without one are refused). */
export const DraftOrdersSchema = z.looseObject({
  resourceType: z.literal('Bundle', { error: "must be a FHIR Bundle (resourceType 'Bundle')" }),
  entry: z.array(z.looseObject({ resource: FhirResourceSchema })).optional(),
});

/**
 * `order-sign` context.
 * @see https://cds-hooks.org/hooks/order-sign/
 */
export const OrderSignContextSchema = PatientViewContextSchema.extend({
  draftOrders: DraftOrdersSchema,
});

/**
 * `order-select` context: `selections` names the newly selected orders among `draftOrders`.
 * @see https://cds-hooks.org/hooks/order-select/
 */
export const OrderSelectContextSchema = OrderSignContextSchema.extend({
  selections: z
    .array(
      z.string().regex(DRAFT_ORDER_REFERENCE, {
        error: 'must be a reference such as MedicationRequest/123',
      }),
    )
    .min(1, { error: 'must name at least one selected order' }),
}).superRefine((context, ctx) => {
  const present = new Set(
    (context.draftOrders.entry ?? []).map(
      (entry) => `${entry.resource.resourceType}/${entry.resource.id ?? ''}`,
    ),
  );
  context.selections.forEach((selection, index) => {
    if (!present.has(selection)) {
      ctx.addIssue({
        code: 'custom',
        path: ['selections', index],
        message: `names ${selection}, which is not in draftOrders`,
      });
    }
  });
});

/** Context schemas of the hooks this service knows; the router checks `context` against them. */
export const HookContextSchemas: Readonly<Record<string, z.ZodType<Record<string, unknown>>>> = {
  'patient-view': PatientViewContextSchema,
  'order-sign': OrderSignContextSchema,
  'order-select': OrderSelectContextSchema,
};

/**
 * @see https://cds-hooks.hl7.org/2.0/#source
 */
export const SourceSchema = z.object({
  label: z.string().min(1),
  url: HttpUrlSchema.optional(),
  icon: HttpUrlSchema.optional(),
  topic: CodingSchema.optional(),
});

/**
 * @see https://cds-hooks.hl7.org/2.0/#action
 */
export const ActionSchema = z
  .object({
    type: z.enum(['create', 'update', 'delete']),
    description: z.string().min(1),
    resource: FhirResourceSchema.optional(),
    resourceId: z.string().min(1).optional(),
  })
  .superRefine((action, ctx) => {
    if ((action.type === 'create' || action.type === 'update') && action.resource === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['resource'],
        message: `is required for a ${action.type} action`,
      });
    }
    // The spec only says SHOULD for delete; we always send it, so its absence is our bug.
    if (action.type === 'delete' && action.resourceId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['resourceId'],
        message: 'is required for a delete action',
      });
    }
  });

/**
 * @see https://cds-hooks.hl7.org/2.0/#suggestion
 */
export const SuggestionSchema = z.object({
  label: z.string().min(1),
  uuid: LowercaseUuidSchema.optional(),
  isRecommended: z.boolean().optional(),
  actions: z.array(ActionSchema).optional(),
});

/**
 * @see https://cds-hooks.hl7.org/2.0/#link
 */
export const LinkSchema = z
  .object({
    label: z.string().min(1),
    url: HttpUrlSchema,
    type: z.enum(['absolute', 'smart']),
    appContext: z.string().min(1).optional(),
    autolaunchable: z.boolean().optional(),
  })
  .superRefine((link, ctx) => {
    if (link.type !== 'smart' && link.appContext !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['appContext'],
        message: 'is only allowed on smart links',
      });
    }
  });

/** An override reason is shown to the user, so unlike a topic its display text is required. */
export const OverrideReasonCodingSchema = CodingSchema.extend({ display: z.string().min(1) });

/**
 * A card as this service emits it. The spec makes `uuid` optional; we always send one because
 * feedback refers to cards by it.
 * @see https://cds-hooks.hl7.org/2.0/#card-attributes
 */
export const CardSchema = z
  .object({
    uuid: LowercaseUuidSchema,
    summary: z.string().min(1).max(139, { error: 'must be shorter than 140 characters' }),
    detail: z.string().min(1).optional(),
    indicator: z.enum(['info', 'warning', 'critical']),
    source: SourceSchema,
    suggestions: z.array(SuggestionSchema).optional(),
    selectionBehavior: z.enum(['at-most-one', 'any']).optional(),
    overrideReasons: z.array(OverrideReasonCodingSchema).optional(),
    links: z.array(LinkSchema).optional(),
    extension: ExtensionSchema.optional(),
  })
  .superRefine((card, ctx) => {
    if ((card.suggestions?.length ?? 0) > 0 && card.selectionBehavior === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['selectionBehavior'],
        message: 'is required when suggestions are present',
      });
    }
  });

/**
 * @see https://cds-hooks.hl7.org/2.0/#cds-service-response
 */
export const CdsResponseSchema = z.object({
  cards: z.array(CardSchema),
  systemActions: z.array(ActionSchema).optional(),
});

/**
 * One entry of the discovery response.
 * @see https://cds-hooks.hl7.org/2.0/#response
 */
export const CdsServiceDefinitionSchema = z.object({
  hook: z.string().min(1),
  title: z.string().min(1).optional(),
  description: z.string().min(1),
  id: z.string().regex(/^[A-Za-z0-9._~-]+$/, { error: 'must be URL-safe' }),
  prefetch: z.record(z.string(), z.string().min(1)).optional(),
  usageRequirements: z.string().min(1).optional(),
  extension: ExtensionSchema.optional(),
});

export const DiscoveryResponseSchema = z.object({
  services: z.array(CdsServiceDefinitionSchema),
});

/**
 * One item of the 2.0 feedback body.
 * @see https://cds-hooks.hl7.org/2.0/#feedback
 */
export const FeedbackItemSchema = z
  .object({
    card: z.guid({ error: 'must be the uuid of a card' }),
    outcome: z.enum(['accepted', 'overridden']),
    acceptedSuggestions: z.array(z.object({ id: shortString().min(1) })).optional(),
    overrideReason: z
      .object({
        reason: CodingSchema.optional(),
        userComment: z
          .string()
          .refine((text) => Buffer.byteLength(text, 'utf8') <= STRING_LIMITS.userCommentBytes, {
            error: `must be at most ${STRING_LIMITS.userCommentBytes} bytes (UTF-8)`,
          })
          .optional(),
      })
      .optional(),
    outcomeTimestamp: z
      .string()
      .max(STRING_LIMITS.timestamp, {
        error: `must be at most ${STRING_LIMITS.timestamp} characters`,
      })
      .pipe(z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' })),
    extension: ExtensionSchema.optional(),
  })
  .superRefine((item, ctx) => {
    if (item.outcome === 'accepted' && (item.acceptedSuggestions?.length ?? 0) === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['acceptedSuggestions'],
        message: 'is required when outcome is accepted',
      });
    }
    if (item.outcome === 'accepted' && item.overrideReason !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['overrideReason'],
        message: 'is only allowed when outcome is overridden',
      });
    }
  });

export const FeedbackSchema = z.object({
  feedback: z.array(FeedbackItemSchema).min(1),
});

export type FhirAuthorization = z.infer<typeof FhirAuthorizationSchema>;
export type CdsRequest = z.infer<typeof CdsRequestSchema>;
export type PatientViewContext = z.infer<typeof PatientViewContextSchema>;
export type OrderSignContext = z.infer<typeof OrderSignContextSchema>;
export type OrderSelectContext = z.infer<typeof OrderSelectContextSchema>;
export type Coding = z.infer<typeof CodingSchema>;
export type Source = z.infer<typeof SourceSchema>;
export type Action = z.infer<typeof ActionSchema>;
export type Suggestion = z.infer<typeof SuggestionSchema>;
export type Link = z.infer<typeof LinkSchema>;
export type Card = z.infer<typeof CardSchema>;
export type CdsResponse = z.infer<typeof CdsResponseSchema>;
export type CdsServiceDefinitionJson = z.infer<typeof CdsServiceDefinitionSchema>;
export type FeedbackItem = z.infer<typeof FeedbackItemSchema>;
export type Feedback = z.infer<typeof FeedbackSchema>;

/**
 * Removes every empty optional (`null`, `undefined`, `""`, `[]`, `{}`) at any depth, repeating
 * until nothing empty is left (an object whose members were all empty is itself removed).
 * @see https://cds-hooks.hl7.org/2.0/#card-attributes ("SHALL NOT ... empty or null")
 */
export function stripEmpty(value: unknown): unknown {
  // Well-built cards have nothing to strip: checking first spares a copy of every response.
  return holdsEmpty(value) ? copyWithoutEmpty(value) : value;
}

/** True when an empty optional sits anywhere below `value`. */
function holdsEmpty(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isEmpty(item) || holdsEmpty(item)) {
        return true;
      }
    }
    return false;
  }
  if (isRecord(value)) {
    for (const key in value) {
      const member = value[key];
      if (Object.hasOwn(value, key) && (isEmpty(member) || holdsEmpty(member))) {
        return true;
      }
    }
  }
  return false;
}

function copyWithoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(stripEmpty).filter((item) => !isEmpty(item));
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      const stripped = stripEmpty(member);
      if (!isEmpty(stripped)) {
        out[key] = stripped;
      }
    }
    return out;
  }
  return value;
}

/**
 * `stripEmpty` over a service's result in one pass, except that `cards` always stays (`[]` means
 * "no advice"); a `cards` member that is not a list becomes `[]`. Non-objects are left for the
 * response schema to reject.
 */
export function stripResponse(result: unknown): unknown {
  if (!isRecord(result)) {
    return result;
  }
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(result)) {
    if (key === 'cards') {
      out.cards = Array.isArray(member) ? stripEmpty(member) : [];
      continue;
    }
    const stripped = stripEmpty(member);
    if (!isEmpty(stripped)) {
      out[key] = stripped;
    }
  }
  out.cards ??= [];
  return out;
}

/**
 * The JSON a CDS client receives: `cards` is always present (an empty list means "no advice"),
 * everything else empty is dropped.
 */
export function toSpecJson(response: CdsResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { cards: response.cards.map(stripEmpty) };
  const systemActions = stripEmpty(response.systemActions);
  if (!isEmpty(systemActions)) {
    out.systemActions = systemActions;
  }
  return out;
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') {
    return true;
  }
  if (Array.isArray(value)) {
    return value.length === 0;
  }
  if (isRecord(value)) {
    for (const key in value) {
      if (Object.hasOwn(value, key)) {
        return false;
      }
    }
    return true;
  }
  return false;
}
