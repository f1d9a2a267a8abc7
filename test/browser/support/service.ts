import { createServer, type Server } from 'node:http';
import { services as realServices } from '../../../hooks/index.js';
import { assembleService } from '../../../src/assemble-service.js';
import type { CdsService } from '../../../src/cds/service.js';
import { loadConfig } from '../../../src/config.js';
import { InMemoryFeedbackStore } from '../../../src/stores/feedback-store.js';

export interface RunningService {
  baseUrl: string;
  feedbackStore: InMemoryFeedbackStore;
  close: () => Promise<void>;
}

/**
 * The whole service in this process, assembled as `npm start` does: the real CDS services, the
 * embedded FHIR server with its demo patients at /fhir, the trend pages and the demo EHR, on
 * 127.0.0.1 and a free port. The HTTP server is created first because the FHIR server's paging
 * links and the trend links need the real port.
 */
export async function startService(
  services: readonly CdsService[] = realServices,
): Promise<RunningService> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('expected a TCP address');
  }
  const { port } = address;
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const feedbackStore = new InMemoryFeedbackStore();
  const { app } = await assembleService(config, {
    services,
    stores: { feedback: feedbackStore },
    processMetrics: false,
  });
  server.on('request', app);
  return {
    baseUrl,
    feedbackStore,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
