import { isLoopbackHost } from './loopback.js';

export interface FhirServerPolicyOptions {
  /** `FHIR_SERVER_ALLOWLIST`: origins every client may name. */
  allowlist?: readonly string[];
  /** `ALLOW_INSECURE_FHIR`: plain http allowed beyond loopback. */
  allowInsecure: boolean;
  /** Origin of the embedded FHIR server when it runs: it is this process, always allowed. */
  embeddedOrigin?: string;
}

/** Who is asking: an authenticated client (with its own `fhir_servers`), or nobody in open mode. */
export interface FhirServerRequester {
  fhirServers?: readonly string[];
}

/** Returns why `fhirServer` may not be fetched from, or undefined when it may. */
export type FhirServerPolicy = (
  fhirServer: string,
  requester?: FhirServerRequester,
) => string | undefined;

/**
 * Keeps `fhirServer` from turning the service into an open relay: only listed origins are
 * fetched from. In open mode with no allowlist configured, loopback and the embedded server are.
 */
export function createFhirServerPolicy(options: FhirServerPolicyOptions): FhirServerPolicy {
  const global = new Set(options.allowlist ?? []);
  if (options.embeddedOrigin !== undefined) {
    global.add(options.embeddedOrigin);
  }
  return (fhirServer, requester) => {
    let url: URL;
    try {
      url = new URL(fhirServer);
    } catch {
      return 'fhirServer is not an absolute URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return 'fhirServer must be an http(s) URL';
    }
    if (url.username !== '' || url.password !== '') {
      return 'fhirServer must not carry credentials';
    }
    const loopback = isLoopbackHost(url.hostname);
    if (url.protocol === 'http:' && !loopback && !options.allowInsecure) {
      return `fhirServer ${url.origin} must use https`;
    }
    if (global.has(url.origin)) {
      return undefined;
    }
    if (requester === undefined) {
      if (options.allowlist === undefined && loopback) {
        return undefined;
      }
    } else if (requester.fhirServers?.includes(url.origin) === true) {
      return undefined;
    }
    return `fhirServer ${url.origin} is not on the allowlist of FHIR servers this service fetches from`;
  };
}
