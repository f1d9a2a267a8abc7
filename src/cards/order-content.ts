import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  CodingSchema,
  PointIdSchema,
  SourceSchema,
  summaryTemplateSchema,
  templateSchema,
} from './content-schema.js';
import { CardContentError, findCardsDir } from './load-content.js';

export const ORDER_WARNING_FILE = 'order-warning.json';

/** Longest value the builder puts in each summary slot (the drug name is cut to fit). */
export const ORDER_SUMMARY_SLOT_MAX_LENGTH = { drug: 40, alpXUln: 5, alpTrend: 17 } as const;

const ORDER_DETAIL_SLOTS = [
  'drug',
  'drugPattern',
  'evidence',
  'criticalNote',
  'livertoxUrl',
  'monitorWindow',
  'resolution',
] as const;

const summaryTemplate = summaryTemplateSchema(ORDER_SUMMARY_SLOT_MAX_LENGTH);

const xUln = z.number().positive().max(100);

/**
 * `cards/order-warning.json`: when a draft order of a cholestatic drug earns a warning, how it reads
 * and what it suggests. Its thresholds are the only copy of these numbers.
 */
export const OrderWarningContentSchema = z
  .object({
    kind: z.literal('order-warning'),
    title: z.string().min(1),
    covers: z.array(PointIdSchema).min(1),
    criteria: z
      .object({
        liverTestsRaisedAboveXUln: xUln,
        alpAtLeastXUln: xUln,
        rPatterns: z.array(z.enum(['cholestatic', 'mixed', 'hepatocellular'])),
        alpRisingSignificantly: z.boolean(),
        cholestaticShift: z.boolean(),
        /** W1: with a normal GGT the ALP is probably not hepatic, so the drug is no cholestatic risk signal. */
        normalGgtMeansNonHepatic: z.boolean(),
        covers: z.array(PointIdSchema).min(1),
        note: z.string().min(1),
      })
      .strict(),
    critical: z
      .object({
        alpAboveXUln: xUln,
        directBilirubinRaised: z.boolean(),
        covers: z.array(PointIdSchema).min(1),
        note: z.string().min(1),
      })
      .strict(),
    summary: z.object({ warning: summaryTemplate, critical: summaryTemplate }).strict(),
    trendWords: z
      .object({
        rising: z.string().min(1).max(ORDER_SUMMARY_SLOT_MAX_LENGTH.alpTrend),
        falling: z.string().min(1).max(ORDER_SUMMARY_SLOT_MAX_LENGTH.alpTrend),
        stable: z.string().min(1).max(ORDER_SUMMARY_SLOT_MAX_LENGTH.alpTrend),
        insufficient: z.string().min(1).max(ORDER_SUMMARY_SLOT_MAX_LENGTH.alpTrend),
      })
      .strict(),
    detail: z
      .array(
        z
          .object({
            heading: z.string().min(1).optional(),
            body: templateSchema(ORDER_DETAIL_SLOTS),
          })
          .strict(),
      )
      .min(1),
    phrases: z
      .object({
        alpLatest: templateSchema(['value', 'xUln', 'date']),
        alpRising: templateSchema(['change', 'span']),
        alpAtLeast: templateSchema(['threshold']),
        rPattern: templateSchema(['r', 'pattern']),
        shift: templateSchema([]),
        directBilirubin: templateSchema(['value', 'xUln']),
        alpCritical: templateSchema(['threshold']),
        directBilirubinCritical: templateSchema([]),
        livertoxLinkLabel: templateSchema(['drug']),
      })
      .strict(),
    source: SourceSchema,
    suggestions: z
      .object({
        remove: z
          .object({
            label: z.string().min(1),
            description: templateSchema(['drug']),
            covers: z.array(PointIdSchema).min(1),
          })
          .strict(),
        monitor: z
          .object({
            label: z.string().min(1),
            covers: z.array(PointIdSchema).min(1),
            afterDays: z
              .object({ from: z.number().int().min(1), to: z.number().int().min(1) })
              .strict()
              .refine((days) => days.to >= days.from, { message: 'to must not be before from' }),
            order: z
              .object({
                text: z.string().min(1),
                category: CodingSchema,
                codings: z.array(CodingSchema).min(1),
              })
              .strict(),
          })
          .strict(),
      })
      .strict(),
    overrideReasons: z.array(CodingSchema).min(1),
  })
  .strict();
export type OrderWarningContent = z.infer<typeof OrderWarningContentSchema>;

export function parseOrderWarningContent(raw: unknown): OrderWarningContent {
  const result = OrderWarningContentSchema.safeParse(raw);
  if (!result.success) {
    throw new CardContentError(
      ORDER_WARNING_FILE,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/** Reads and validates `cards/order-warning.json`; a bad edit stops the service at start-up. */
export function loadOrderWarningContent(dir: string = findCardsDir()): OrderWarningContent {
  const path = join(dir, ORDER_WARNING_FILE);
  if (!existsSync(path)) {
    throw new CardContentError(ORDER_WARNING_FILE, [`file not found at ${path}`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CardContentError(ORDER_WARNING_FILE, [`not valid JSON: ${String(error)}`]);
  }
  return parseOrderWarningContent(raw);
}
