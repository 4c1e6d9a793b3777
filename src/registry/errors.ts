/** The distribution spec's error bodies, turned into typed errors with the registry's own words. */
import { TsDockerError } from '../errors.js';
import type { HttpResponse } from '../transport/transport.js';
import { statusText } from '../transport/transport.js';

/** One entry of a spec error body. */
export interface SpecError {
  code: string;
  message?: string;
  detail?: unknown;
}

/** A registry answered with an error: status, spec code (`DENIED`, `MANIFEST_UNKNOWN`...), message. */
export class RegistryError extends TsDockerError {
  constructor(readonly status: number, readonly errors: SpecError[], message: string) {
    super(errors[0]?.code ?? `HTTP_${status}`, message);
  }

  /** True when the registry says the thing does not exist. */
  get notFound(): boolean {
    return this.status === 404;
  }
}

/** Reads an error response into a RegistryError; `what` says what was being done. */
export async function registryError(res: HttpResponse, what: string): Promise<RegistryError> {
  let errors: SpecError[] = [];
  let text = '';
  try {
    // undici 7 throws an uncatchable TypeError when text() is called on a body that already
    // ended (e.g. a HEAD answer dumped before the status was checked): read only a live body.
    if (!res.body.readableEnded && !res.body.destroyed) text = await res.body.text();
    const doc = JSON.parse(text) as { errors?: SpecError[] };
    if (Array.isArray(doc.errors)) errors = doc.errors;
  } catch {
    // not a spec error body (a proxy's HTML page, or nothing)
  }
  const words = errors.map((e) => `${e.code.toLowerCase()}: ${e.message ?? ''}`.trim()).join('; ');
  if (res.status === 401) {
    // Say how to fix it: the credentials (or their absence) were refused for this registry.
    const hint = `; log in with: ts-docker login ${new URL(res.url).host}`;
    if (errors.length === 0) return new RegistryError(401, [{ code: 'UNAUTHORIZED' }], `${what}: unauthorized: authentication required${hint}`);
    return new RegistryError(401, errors, `${what}: ${words}${hint}`);
  }
  if (res.status === 413) {
    return new RegistryError(413, [], `${what}: 413 Request Entity Too Large: the registry or a proxy in front of it refused the request body; use a smaller --chunk-size`);
  }
  return new RegistryError(res.status, errors, `${what}: ${words || `${res.status} ${statusText(res.status)}`.trim()}`);
}
