import type { CdsService } from '../src/cds/service.js';
import { liverTrendsOrderServices } from './liver-trends-order.js';
import { liverTrendsService } from './liver-trends.js';

/** Every CDS service this server offers; discovery is generated from this list. */
export const services: CdsService[] = [liverTrendsService, ...liverTrendsOrderServices];
