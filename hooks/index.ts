import type { CdsService } from '../src/cds/service.js';
import { liverTrendsService } from './liver-trends.js';

/** Every CDS service this server offers; discovery is generated from this list. */
export const services: CdsService[] = [liverTrendsService];
