import { Router } from 'express';
import { isTrendLinkId, type TrendLinkStore } from '../stores/trend-link-store.js';
import { PRIVATE_PAGE_HEADERS } from './html.js';
import { renderExpiredPage, renderTrendPage } from './render-trend-page.js';
import { decodeTrendSnapshot } from './trend-snapshot.js';
import { buildTrendView } from './trend-view.js';

export interface TrendRouterOptions {
  /** Snapshots as JSON text, as the publisher stores them. */
  store: TrendLinkStore<string>;
}

/**
 * `GET /trends/:id` renders the stored snapshot. A well-formed id that is no longer in the store
 * has almost certainly expired, hence 410, as has a snapshot this version cannot read (written by
 * another version into a shared store); anything else is 404. All get the same friendly page.
 */
export function createTrendRouter(options: TrendRouterOptions): Router {
  const router = Router();
  router.get('/:id', async (req, res) => {
    res.set(PRIVATE_PAGE_HEADERS);
    const id = req.params.id;
    const text = isTrendLinkId(id) ? await options.store.get(id) : undefined;
    const snapshot = text === undefined ? undefined : decodeTrendSnapshot(text);
    if (snapshot === undefined) {
      res
        .status(isTrendLinkId(id) ? 410 : 404)
        .type('html')
        .send(renderExpiredPage());
      return;
    }
    res
      .status(200)
      .type('html')
      .send(renderTrendPage(buildTrendView(snapshot)));
  });
  return router;
}
