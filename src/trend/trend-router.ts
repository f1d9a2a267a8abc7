import { Router } from 'express';
import { isTrendLinkId, type TrendLinkStore } from '../stores/trend-link-store.js';
import { PRIVATE_PAGE_HEADERS } from './html.js';
import { renderExpiredPage, renderTrendPage } from './render-trend-page.js';
import type { TrendSnapshot } from './trend-snapshot.js';
import { buildTrendView } from './trend-view.js';

export interface TrendRouterOptions {
  store: TrendLinkStore<TrendSnapshot>;
}

/**
 * `GET /trends/:id` renders the stored snapshot. A well-formed id that is no longer in the store
 * has almost certainly expired, hence 410; anything else is 404. Both get the same friendly page.
 */
export function createTrendRouter(options: TrendRouterOptions): Router {
  const router = Router();
  router.get('/:id', async (req, res) => {
    res.set(PRIVATE_PAGE_HEADERS);
    const id = req.params.id;
    const snapshot = isTrendLinkId(id) ? await options.store.get(id) : undefined;
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
