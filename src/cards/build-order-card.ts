import { randomUUID } from 'node:crypto';
import type { Card, Suggestion } from '../cds/schemas.js';
import type { Assessment } from '../engine/types.js';
import type { DrugEntry } from './content-schema.js';
import { describeWindow, fill } from './build-cards.js';
import {
  formatDate,
  formatReportedUnit,
  formatValue,
  formatXUln,
  renderDataQuality,
} from './detail-blocks.js';
import { ORDER_SUMMARY_SLOT_MAX_LENGTH, type OrderWarningContent } from './order-content.js';
import type { OrderWarningJudgement } from '../rules/order-warning.js';

const DAY_MS = 86_400_000;

export interface OrderCardInput {
  drug: DrugEntry;
  /** `MedicationRequest/{id}` of the draft order; without it no delete can be offered. */
  orderReference: string | undefined;
  judgement: OrderWarningJudgement;
  assessment: Assessment;
  content: OrderWarningContent;
  /** How long cholestatic drug injury takes to resolve, from the reviewed drug list (C4). */
  resolutionDays: number;
  patientId: string;
  now: Date;
}

/**
 * The warning on a draft order of a cholestatic drug: the drug, the latest ALP ×ULN and its trend,
 * the evidence, LiverTox, and two exclusive choices (drop the order, or keep it and monitor).
 * @see https://cds-hooks.hl7.org/2.0/#card-attributes
 */
export function buildOrderWarningCard(input: OrderCardInput): Card {
  const { content, judgement, assessment, drug } = input;
  const drugName = truncate(capitalise(drug.name), ORDER_SUMMARY_SLOT_MAX_LENGTH.drug);
  const summary = fill(content.summary[judgement.indicator], {
    drug: drugName,
    alpXUln: formatXUln(judgement.latestAlp.xUln),
    alpTrend: content.trendWords[assessment.series.ALP.trend.direction],
  });
  const { from, to } = content.suggestions.monitor.afterDays;
  const detailSlots = {
    drug: capitalise(drug.name),
    drugPattern: drug.pattern,
    evidence: renderEvidence(input),
    criticalNote: renderCriticalNote(input),
    livertoxUrl: drug.livertoxUrl,
    monitorWindow: `${from}–${to} days`,
    resolution: describeWindow(input.resolutionDays),
  };
  const dataQuality = renderDataQuality(assessment);
  const detail = [
    ...content.detail.map((block) => {
      const body = fill(block.body, detailSlots);
      if (body === '') {
        return '';
      }
      return block.heading === undefined ? body : `**${block.heading}**\n\n${body}`;
    }),
    dataQuality === '' ? '' : `**Data quality**\n\n${dataQuality}`,
  ]
    .filter((block) => block !== '')
    .join('\n\n');
  return {
    uuid: randomUUID(),
    summary,
    detail,
    indicator: judgement.indicator,
    source: { ...content.source },
    suggestions: buildOrderSuggestions(input, drugName),
    selectionBehavior: 'at-most-one',
    overrideReasons: content.overrideReasons.map((reason) => ({ ...reason })),
    links: [
      {
        label: fill(content.phrases.livertoxLinkLabel, { drug: drugName }),
        url: drug.livertoxUrl,
        type: 'absolute',
      },
    ],
  };
}

function buildOrderSuggestions(input: OrderCardInput, drugName: string): Suggestion[] {
  const { remove, monitor } = input.content.suggestions;
  const suggestions: Suggestion[] = [];
  if (input.orderReference !== undefined) {
    suggestions.push({
      label: remove.label,
      uuid: randomUUID(),
      actions: [
        {
          type: 'delete',
          description: fill(remove.description, { drug: drugName }),
          resourceId: input.orderReference,
        },
      ],
    });
  }
  const start = new Date(input.now.getTime() + monitor.afterDays.from * DAY_MS);
  const end = new Date(input.now.getTime() + monitor.afterDays.to * DAY_MS);
  const request: fhir4.ServiceRequest = {
    resourceType: 'ServiceRequest',
    // A draft proposal: the clinician who accepts it decides whether to sign it.
    status: 'draft',
    intent: 'proposal',
    category: [{ coding: [{ ...monitor.order.category }] }],
    code: {
      coding: monitor.order.codings.map((coding) => ({ ...coding })),
      text: monitor.order.text,
    },
    subject: { reference: `Patient/${input.patientId}` },
    occurrencePeriod: {
      start: formatDate(start.toISOString()),
      end: formatDate(end.toISOString()),
    },
    authoredOn: input.now.toISOString(),
    reasonReference: [{ reference: `Observation/${input.judgement.latestAlp.observationId}` }],
  };
  suggestions.push({
    label: monitor.label,
    uuid: randomUUID(),
    actions: [{ type: 'create', description: `Propose: ${monitor.order.text}`, resource: request }],
  });
  return suggestions;
}

function renderEvidence(input: OrderCardInput): string {
  const { phrases, criteria } = input.content;
  const { judgement, assessment } = input;
  const alp = judgement.latestAlp;
  const lines = [
    fill(phrases.alpLatest, {
      value: `${formatValue(alp)} ${formatReportedUnit(alp)}`,
      xUln: formatXUln(alp.xUln),
      date: formatDate(alp.time),
    }),
  ];
  const trend = assessment.series.ALP.trend;
  for (const sign of judgement.signs) {
    switch (sign) {
      case 'alp-rising':
        lines.push(
          fill(phrases.alpRising, {
            change: trend.changePct === null ? '' : `${signed(trend.changePct)} %`,
            span: `${Math.round(trend.spanDays)} days`,
          }),
        );
        break;
      case 'alp-at-least':
        lines.push(fill(phrases.alpAtLeast, { threshold: String(criteria.alpAtLeastXUln) }));
        break;
      case 'r-pattern': {
        const r = assessment.findings.rRatio.last;
        if (r !== null) {
          lines.push(fill(phrases.rPattern, { r: r.value.toFixed(1), pattern: r.patternClass }));
        }
        break;
      }
      case 'cholestatic-shift':
        lines.push(fill(phrases.shift, {}));
        break;
    }
  }
  const direct = assessment.findings.bilirubin.latestDirect;
  if (judgement.criticalSigns.includes('direct-bilirubin-raised') && direct !== null) {
    lines.push(
      fill(phrases.directBilirubin, {
        value: `${formatValue(direct)} ${formatReportedUnit(direct)}`,
        xUln: formatXUln(direct.xUln),
      }),
    );
  }
  return lines.map((line) => `- ${line}`).join('\n');
}

function renderCriticalNote(input: OrderCardInput): string {
  const { phrases, critical } = input.content;
  return input.judgement.criticalSigns
    .map((sign) =>
      sign === 'alp-above'
        ? fill(phrases.alpCritical, { threshold: String(critical.alpAboveXUln) })
        : fill(phrases.directBilirubinCritical, {}),
    )
    .join(' ');
}

function signed(value: number): string {
  const rounded = Math.round(value);
  return rounded >= 0 ? `+${rounded}` : `−${Math.abs(rounded)}`;
}

function capitalise(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
