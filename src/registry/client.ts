/** The distribution API: ping, manifests, blobs, upload sessions and tags of one registry. */
import type { Readable } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { digestOf, isDigest } from '../image/digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../image/media-types.js';
import { manifestMediaType } from '../image/manifest.js';
import type { Body, HttpResponse, Transport } from '../transport/transport.js';
import { NetworkError, lowLevelCode } from '../transport/errors.js';
import { MANIFEST_LIMIT, TAG_LIST_LIMIT, readLimited } from '../transport/limits.js';
import { isLoopbackHost, schemeFor } from '../transport/scheme.js';
import { RegistryError, registryError } from './errors.js';

/** The manifest types we ask for, most specific first. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ');

/** Where the registry API of a reference domain lives. */
export function apiHost(domain: string): string {
  // Docker Hub's names say docker.io; its API is served from registry-1.docker.io.
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

/** A fetched manifest: exact bytes, media type, digest. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** An upload session: where to send the next request and how much the registry has. */
export interface UploadSession {
  location: string;
  offset: number;
  /** OCI-Chunk-Min-Length, when the registry set one. */
  minChunk?: number;
}

/** What a manifest upload answered. */
export interface PutManifestResult {
  digest: Digest;
  /** The `OCI-Subject` header, when the registry processed the manifest's `subject` (a well-formed digest only). */
  subject?: Digest;
}

/** One page of a referrers API answer. */
export interface ReferrersPage {
  /** The body: an OCI image index, at most 4 MiB, not yet validated. */
  bytes: Buffer;
  /** The filters the registry applied (`OCI-Filters-Applied`, e.g. `artifactType`). */
  filtersApplied: string[];
  /** The next page's URL (a `Link: <...>; rel="next"` header), resolved. */
  next?: string;
}

/** Parses a `Range: 0-N` header into the next offset (N+1). */
export function nextOffset(range: string | undefined): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '');
  return m ? Number(m[1]) + 1 : undefined;
}

/** A client for one registry host. */
export class RegistryClient {
  /** Base URL, e.g. `http://127.0.0.1:5000`. */
  readonly base: string;

  constructor(readonly domain: string, readonly transport: Transport, insecure: readonly string[] = []) {
    const host = apiHost(domain);
    this.base = `${schemeFor(host, insecure)}://${host}`;
  }

  /** The auth scope for a repository. */
  scope(repo: string, push: boolean, from?: string): string {
    const s = `repository:${repo}:${push ? 'pull,push' : 'pull'}`;
    return from && from !== repo ? `${s} repository:${from}:pull` : s;
  }

  private url(path: string): string {
    return `${this.base}/v2/${path}`;
  }

  /** Resolves a Location header against the request it answered. */
  private locate(res: HttpResponse): string {
    const loc = res.headers['location'];
    if (!loc) throw new RegistryError(res.status, [], `registry ${this.domain} answered ${res.status} without a Location header`);
    return new URL(loc, res.url).toString();
  }

  /** `GET /v2/`: checks the registry speaks v2 and learns its auth challenge. */
  async ping(signal?: AbortSignal): Promise<void> {
    const url = `${this.base}/v2/`;
    // First contact: a refused connection or a DNS failure fails at once (transport/retry.ts).
    const res = await this.transport.fetch({ method: 'GET', url, challengeOnly: true, firstContact: true, signal }).catch((err: unknown) => {
      const u = new URL(url);
      if (err instanceof NetworkError && lowLevelCode(err) === 'ECONNREFUSED' && isLoopbackHost(u.host)) {
        // Nothing listens on a loopback port: most likely no registry was started there.
        const port = u.port || (u.protocol === 'https:' ? '443' : '80');
        throw new NetworkError(err.reason, url, { cause: err, hint: `is a registry running there? ts-docker run -d -p ${port}:5000 registry` });
      }
      throw err;
    });
    await res.body.dump();
    if (res.status !== 200 && res.status !== 401) {
      throw new RegistryError(res.status, [], `${this.domain} does not look like a v2 registry (GET /v2/ answered ${res.status})`);
    }
  }

  /** Fetches a manifest by tag or digest, checking its digest. */
  async getManifest(repo: string, ref: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const res = await this.transport.fetch({
      method: 'GET', url: this.url(`${repo}/manifests/${ref}`), headers: { accept: MANIFEST_ACCEPT }, scope: this.scope(repo, false), signal,
    });
    if (res.status !== 200) throw await registryError(res, `manifest for ${this.domain}/${repo}:${ref}`);
    // At most 4 MiB, refused from Content-Length before reading when it says more (limits.ts).
    const bytes = await readLimited(res.body, MANIFEST_LIMIT, 'manifest', res.headers['content-length'], `${this.domain}/${repo}${isDigest(ref) ? '@' : ':'}${ref}`);
    const digest = digestOf(bytes);
    const expected = isDigest(ref) ? ref : res.headers['docker-content-digest'];
    if (expected && isDigest(expected) && expected !== digest) {
      throw new DigestMismatchError(`manifest verification failed for digest ${expected}: got ${digest}`);
    }
    // The body decides its media type; a Content-Type it contradicts is an error (a lying registry
    // would otherwise make the store's descriptor wrong). Also validates the manifest.
    const mediaType = manifestMediaType(bytes, res.headers['content-type']);
    return { bytes, mediaType, digest };
  }

  /** Uploads a manifest with its exact bytes; returns the digest the registry reports. */
  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<Digest> {
    return (await this.putManifestResult(repo, ref, bytes, mediaType, signal)).digest;
  }

  /** {@link putManifest}, also telling the `OCI-Subject` header (set by registries with the referrers API). */
  async putManifestResult(repo: string, ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<PutManifestResult> {
    const res = await this.transport.fetch({
      method: 'PUT', url: this.url(`${repo}/manifests/${ref}`), headers: { 'content-type': mediaType }, body: bytes,
      scope: this.scope(repo, true), signal,
    });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await registryError(res, `manifest upload to ${this.domain}/${repo}:${ref}`);
    await res.body.dump();
    const d = res.headers['docker-content-digest'];
    // Network text: kept only when it is a well-formed digest (never shown otherwise).
    const subject = res.headers['oci-subject']?.trim();
    return { digest: d && isDigest(d) ? d : digestOf(bytes), ...(subject && isDigest(subject) ? { subject } : {}) };
  }

  /**
   * One page of `GET /v2/<repo>/referrers/<digest>` (`url`: a later page, from `next`); undefined
   * on a 404, which says the registry has no referrers API (the spec forbids a 404 from one that has it).
   */
  async referrers(repo: string, digest: Digest, opts: { artifactType?: string; url?: string; signal?: AbortSignal } = {}): Promise<ReferrersPage | undefined> {
    const query = opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : '';
    const url = opts.url ?? this.url(`${repo}/referrers/${digest}${query}`);
    const res = await this.transport.fetch({ method: 'GET', url, headers: { accept: OCI_INDEX }, scope: this.scope(repo, false), signal: opts.signal });
    if (res.status === 404) {
      // docker-registry 2.8 has no such route: 404 with a plain `404 page not found` body.
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await registryError(res, `referrers of ${this.domain}/${repo}@${digest}`);
    const bytes = await readLimited(res.body, MANIFEST_LIMIT, 'referrers index', res.headers['content-length'], `${this.domain}/${repo}@${digest}`);
    const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers['link'] ?? '');
    const filters = (res.headers['oci-filters-applied'] ?? '').split(',').map((f) => f.trim()).filter(Boolean);
    return { bytes, filtersApplied: filters, ...(link ? { next: new URL(link[1]!, res.url).toString() } : {}) };
  }

  /**
   * `HEAD` a manifest: the digest `ref` resolves to, undefined when the repository has no such
   * manifest or the registry sends no Docker-Content-Digest (then the caller cannot tell).
   */
  async manifestDigest(repo: string, ref: string, push: boolean, signal?: AbortSignal): Promise<Digest | undefined> {
    const res = await this.transport.fetch({ method: 'HEAD', url: this.url(`${repo}/manifests/${ref}`), headers: { accept: MANIFEST_ACCEPT }, scope: this.scope(repo, push), signal });
    await res.body.dump();
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await registryError(res, `manifest ${this.domain}/${repo}:${ref}`);
    const digest = res.headers['docker-content-digest'];
    return digest && isDigest(digest) ? digest : undefined;
  }

  /** `HEAD` a blob: its size when the repository has it, undefined when not. */
  async blobSize(repo: string, digest: Digest, push: boolean, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.transport.fetch({ method: 'HEAD', url: this.url(`${repo}/blobs/${digest}`), scope: this.scope(repo, push), signal });
    await res.body.dump();
    if (res.status === 200) return Number(res.headers['content-length'] ?? NaN);
    if (res.status === 404) return undefined;
    throw await registryError(res, `blob ${digest} in ${this.domain}/${repo}`);
  }

  /** Streams a blob from `offset` (a Range request); `resumed` is false when the registry sent it whole. */
  async getBlob(repo: string, digest: Digest, offset: number, signal?: AbortSignal): Promise<{ stream: Readable; resumed: boolean }> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await this.transport.fetch({ method: 'GET', url: this.url(`${repo}/blobs/${digest}`), headers, scope: this.scope(repo, false), signal });
    if (res.status === 206 && offset > 0) return { stream: res.body, resumed: true };
    if (res.status === 200) return { stream: res.body, resumed: false };
    throw await registryError(res, `blob ${digest} from ${this.domain}/${repo}`);
  }

  /** Asks to mount a blob from another repository: true when mounted, else a session to upload with. */
  async mount(repo: string, digest: Digest, from: string, signal?: AbortSignal): Promise<true | UploadSession> {
    const res = await this.transport.fetch({
      method: 'POST', url: this.url(`${repo}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`),
      scope: this.scope(repo, true, from), signal, idempotent: true,
    });
    if (res.status === 201) {
      await res.body.dump();
      return true;
    }
    if (res.status === 202) return this.session(res, 0);
    throw await registryError(res, `blob mount into ${this.domain}/${repo}`);
  }

  private async session(res: HttpResponse, offset: number): Promise<UploadSession> {
    await res.body.dump();
    const min = Number(res.headers['oci-chunk-min-length']);
    const s: UploadSession = { location: this.locate(res), offset };
    if (Number.isSafeInteger(min) && min > 0) s.minChunk = min;
    return s;
  }

  /** Opens an upload session (`POST .../blobs/uploads/`). */
  async startUpload(repo: string, signal?: AbortSignal): Promise<UploadSession> {
    const res = await this.transport.fetch({ method: 'POST', url: this.url(`${repo}/blobs/uploads/`), scope: this.scope(repo, true), signal, idempotent: true });
    if (res.status !== 202) throw await registryError(res, `blob upload to ${this.domain}/${repo}`);
    return this.session(res, 0);
  }

  /** Asks an upload session how far it got; undefined when the session is gone or unusable. */
  async uploadStatus(repo: string, location: string, signal?: AbortSignal): Promise<UploadSession | undefined> {
    const res = await this.transport.fetch({ method: 'GET', url: location, scope: this.scope(repo, true), signal });
    if (res.status !== 204 && res.status !== 200) {
      await res.body.dump();
      return undefined;
    }
    const offset = nextOffset(res.headers['range']);
    // docker-registry 2.8 answers `0-0` both for an empty upload and for one holding a single
    // byte: the offset is unknowable, so treat the session as unusable and start again.
    if (offset === undefined || res.headers['range']?.trim() === '0-0') {
      await res.body.dump();
      return undefined;
    }
    return { ...(await this.session(res, offset)) };
  }

  /** Sends one chunk with `PATCH`; returns the session as the registry now reports it. */
  async patch(repo: string, s: UploadSession, body: () => Readable, length: number, signal?: AbortSignal): Promise<UploadSession | { status: 416 }> {
    const res = await this.transport.fetch({
      method: 'PATCH', url: s.location, body: body as Body, scope: this.scope(repo, true), signal, idempotent: false,
      headers: {
        // docker-registry 2.8 answers 500 to a PATCH with a form content type: always say octet-stream.
        'content-type': 'application/octet-stream',
        'content-range': `${s.offset}-${s.offset + length - 1}`,
        'content-length': String(length),
      },
    });
    if (res.status === 416) {
      await res.body.dump();
      return { status: 416 };
    }
    if (res.status !== 202) throw await registryError(res, `blob upload to ${this.domain}/${repo}`);
    const offset = nextOffset(res.headers['range']) ?? s.offset + length;
    return { ...(await this.session(res, offset)), ...(s.minChunk ? { minChunk: s.minChunk } : {}) };
  }

  /** Closes an upload with `PUT ?digest=` (optionally carrying the last bytes, or the whole blob). */
  async finishUpload(repo: string, s: UploadSession, digest: Digest, body?: { make: () => Readable; length: number }, signal?: AbortSignal): Promise<void> {
    const url = new URL(s.location);
    // The Location already has a query (docker-registry's _state): add the digest to it.
    url.searchParams.set('digest', digest);
    const res = await this.transport.fetch({
      method: 'PUT', url: url.toString(), scope: this.scope(repo, true), signal, idempotent: false,
      body: body ? (body.make as Body) : undefined,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(body?.length ?? 0) },
    });
    if (res.status !== 201 && res.status !== 204) throw await registryError(res, `blob upload to ${this.domain}/${repo}`);
    await res.body.dump();
  }

  /** Cancels an upload session; failures are ignored (the registry expires it anyway). */
  async cancelUpload(repo: string, s: UploadSession): Promise<void> {
    const res = await this.transport.fetch({ method: 'DELETE', url: s.location, scope: this.scope(repo, true) }).catch(() => undefined);
    await res?.body.dump().catch(() => undefined);
  }

  /** Every tag of a repository, following `Link` pagination. */
  async tags(repo: string, signal?: AbortSignal): Promise<string[]> {
    const out: string[] = [];
    let url: string | undefined = this.url(`${repo}/tags/list?n=1000`);
    while (url) {
      const res: HttpResponse = await this.transport.fetch({ method: 'GET', url, scope: this.scope(repo, false), signal });
      if (res.status !== 200) throw await registryError(res, `tags of ${this.domain}/${repo}`);
      const text = (await readLimited(res.body, TAG_LIST_LIMIT, `tag list of ${this.domain}/${repo}`, res.headers['content-length'])).toString('utf8');
      let doc: { tags?: unknown } | null;
      try {
        doc = JSON.parse(text) as { tags?: unknown } | null;
      } catch {
        // V8's message quotes the body: never shown.
        throw new RegistryError(res.status, [], `tags of ${this.domain}/${repo}: the registry answered invalid JSON`);
      }
      const tags = doc?.tags;
      if (Array.isArray(tags)) out.push(...tags.filter((t): t is string => typeof t === 'string'));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers['link'] ?? '');
      url = link ? new URL(link[1]!, res.url).toString() : undefined;
    }
    return out;
  }
}
