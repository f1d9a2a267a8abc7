import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type RequestHandler } from 'express';
import type { FeedbackStore, StoredFeedback } from '../stores/feedback-store.js';
import type { CardIssuanceLog } from '../stores/issuance-log.js';
import { CdsError } from './errors.js';

export interface AdminRouterDeps {
  /** ADMIN_TOKEN; the router is only mounted when it is set. */
  token: string;
  serviceIds: readonly string[];
  feedbackStore: FeedbackStore;
  issuanceLog: CardIssuanceLog;
}

export interface ServiceFeedbackSummary {
  cards: number;
  accepted: number;
  overridden: number;
  overrideReasons: Record<string, number>;
}

/** Override items that carried no reason coding are counted under this code. */
export const NO_REASON_CODE = 'none';

/**
 * Read access to feedback for the informatics team: a per-service summary and the raw items
 * (JSON, or CSV for a spreadsheet). Every route needs `Authorization: Bearer <ADMIN_TOKEN>`.
 */
export function createAdminRouter(deps: AdminRouterDeps): express.Router {
  const router = express.Router();
  router.use(requireToken(deps.token));

  router.get('/feedback/summary', async (_req, res) => {
    const services: Record<string, ServiceFeedbackSummary> = {};
    const entry = (id: string): ServiceFeedbackSummary =>
      (services[id] ??= { cards: 0, accepted: 0, overridden: 0, overrideReasons: {} });
    for (const id of deps.serviceIds) {
      entry(id);
    }
    const [cards, tally] = await Promise.all([
      deps.issuanceLog.countByService(),
      deps.feedbackStore.tally(),
    ]);
    for (const [id, count] of Object.entries(cards)) {
      entry(id).cards = count;
    }
    for (const row of tally) {
      const summary = entry(row.serviceId);
      summary[row.outcome] += row.count;
      if (row.outcome === 'overridden') {
        const code = row.reasonCode ?? NO_REASON_CODE;
        summary.overrideReasons[code] = (summary.overrideReasons[code] ?? 0) + row.count;
      }
    }
    res.set('Cache-Control', 'no-store').json({ services });
  });

  router.get('/feedback', async (req, res) => {
    const since = parseSince(req.query.since);
    const items = await deps.feedbackStore.list(undefined, since);
    res.set('Cache-Control', 'no-store');
    if (req.accepts(['application/json', 'text/csv']) === 'text/csv') {
      res.type('text/csv; charset=utf-8').send(toCsv(items));
      return;
    }
    res.json({ items });
  });

  return router;
}

function parseSince(raw: unknown): Date | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const value = typeof raw === 'string' ? raw : '';
  const time = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? Date.parse(value)
    : Number.NaN;
  if (Number.isNaN(time)) {
    throw new CdsError(
      'INVALID_REQUEST',
      "Query parameter 'since' must be an ISO 8601 date or date-time, e.g. 2026-01-31T00:00:00Z",
    );
  }
  return new Date(time);
}

/** Compares digests so the comparison takes the same time whatever the length or content. */
function requireToken(token: string): RequestHandler {
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const match = /^Bearer[ ]+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (match === null || !timingSafeEqual(given, expected)) {
      res.set('WWW-Authenticate', 'Bearer realm="admin"');
      next(new CdsError('UNAUTHORIZED', 'A valid admin token is required'));
      return;
    }
    next();
  };
}

const CSV_COLUMNS = [
  'serviceId',
  'receivedAt',
  'card',
  'outcome',
  'outcomeTimestamp',
  'overrideReasonSystem',
  'overrideReasonCode',
  'overrideReasonDisplay',
  'userComment',
  'acceptedSuggestions',
] as const;

function toCsv(items: readonly StoredFeedback[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const { serviceId, receivedAt, item } of items) {
    const reason = item.overrideReason?.reason;
    const row: Record<(typeof CSV_COLUMNS)[number], string> = {
      serviceId,
      receivedAt,
      card: item.card,
      outcome: item.outcome,
      outcomeTimestamp: item.outcomeTimestamp,
      overrideReasonSystem: reason?.system ?? '',
      overrideReasonCode: reason?.code ?? '',
      overrideReasonDisplay: reason?.display ?? '',
      userComment: item.overrideReason?.userComment ?? '',
      acceptedSuggestions: (item.acceptedSuggestions ?? []).map((s) => s.id).join(' '),
    };
    lines.push(CSV_COLUMNS.map((column) => csvCell(row[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** RFC 4180 quoting, and a leading quote mark on text a spreadsheet would run as a formula. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
