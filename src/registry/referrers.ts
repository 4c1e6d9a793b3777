/**
 * Referrers (OCI distribution-spec 1.1): manifests whose `subject` is another manifest
 * (signatures, SBOMs, attestations). Listed with the referrers API (`GET /v2/<name>/referrers/<digest>`)
 * where the registry has it, else with the referrers tag schema (an OCI index tagged
 * `sha256-<hex>`, maintained by the clients that push). Pushed the same way: a registry that
 * processed the `subject` says so with `OCI-Subject`; without it, the client updates the tag.
 */
import { DigestMismatchError, InvalidArgumentError, InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { digestOf } from '../image/digest.js';
import { parseJson, parseManifest } from '../image/manifest.js';
import { OCI_INDEX } from '../image/media-types.js';
import type { ReferrerInfo } from '../image/referrer.js';
import { isObject, referrerEntry, referrerInfo } from '../image/referrer.js';
import { quoteUntrusted } from '../text/escape.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';

/** The empty config of artifacts without one (`{}`), as the image spec defines it. */
export { referrerInfo, type ReferrerInfo };

export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/** Where a referrers list came from (or went to). */
export type ReferrersVia = 'api' | 'tag-schema';

/** A listing: the referrers' descriptors and how they were found (`none`: no API and no tag). */
export interface ReferrersList {
  descriptors: Descriptor[];
  via: ReferrersVia | 'none';
}

/** Pages followed at most in one referrers API listing (each up to 4 MiB). */
const MAX_PAGES = 64;

/** Characters a tag may hold (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`); anything else becomes `-`. */
const NOT_TAG_CHAR = /[^a-zA-Z0-9._-]/g;

/**
 * The referrers tag of a digest: its algorithm cut to 32 characters, `-`, its encoded part cut
 * to 64, characters a tag cannot hold replaced with `-` (`sha256:ab..` -> `sha256-ab..`).
 */
export function referrersTag(digest: string): string {
  const i = digest.indexOf(':');
  if (i <= 0 || i === digest.length - 1) throw new InvalidArgumentError(`invalid digest ${quoteUntrusted(digest, 100)}: no referrers tag`);
  return `${digest.slice(0, i).slice(0, 32)}-${digest.slice(i + 1).slice(0, 64)}`.replace(NOT_TAG_CHAR, '-');
}

/** The entries of a referrers API page: an OCI index (JSON object, `manifests` a list of descriptors). */
function parseReferrersIndex(bytes: Buffer, where: string): Descriptor[] {
  const doc = parseJson<unknown>(bytes, `referrers index of ${where}`);
  if (!isObject(doc) || !Array.isArray(doc['manifests'])) throw new InvalidContentError(`invalid referrers index of ${where}: not an image index with a manifests list`);
  return doc['manifests'].map((m, i) => {
    const d = referrerEntry(m);
    if (!d) throw new InvalidContentError(`invalid referrers index of ${where}: manifests[${i}] is not a valid descriptor`);
    return d;
  });
}

/** The first entry per digest, in order (a registry or a tag written by several clients may repeat one). */
function unique(list: Descriptor[]): Descriptor[] {
  const seen = new Set<string>();
  return list.filter((d) => !seen.has(d.digest) && seen.add(d.digest));
}

/** Options of {@link listReferrers}. */
export interface ListReferrersOptions {
  /** Only referrers of this artifact type (the registry's filter where applied, else filtered here). */
  artifactType?: string;
  signal?: AbortSignal;
}

/**
 * The referrers of `subject` in `repo`: from the referrers API, or, when it answers 404 (no API),
 * from the tag schema index (`none` when that tag does not exist or is not an index).
 */
export async function listReferrers(reg: RegistryClient, repo: string, subject: Descriptor, opts: ListReferrersOptions = {}): Promise<ReferrersList> {
  const where = `${reg.domain}/${repo}@${subject.digest}`;
  const keep = (list: Descriptor[]): Descriptor[] => unique(opts.artifactType ? list.filter((d) => d.artifactType === opts.artifactType) : list);
  const out: Descriptor[] = [];
  let filtered = false;
  const seen = new Set<string>();
  let url: string | undefined;
  for (let page = 0; ; page++) {
    const res = await reg.referrers(repo, subject.digest, { ...(opts.artifactType ? { artifactType: opts.artifactType } : {}), ...(url ? { url } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
    if (!res) {
      if (page === 0) return fromTagSchema(reg, repo, subject.digest, keep, opts.signal);
      // A registry that answered the first page cannot lose the API on the next one.
      throw new RegistryError(404, [], `referrers of ${where}: page ${page + 1} answered 404`);
    }
    out.push(...parseReferrersIndex(res.bytes, where));
    // The filter is optional for registries: one that did not apply it says so by omitting OCI-Filters-Applied.
    if (page === 0) filtered = res.filtersApplied.includes('artifactType');
    if (!res.next) break;
    // A Link that loops, or pages without end: stop rather than read forever.
    if (seen.has(res.next) || page + 1 >= MAX_PAGES) throw new InvalidContentError(`referrers of ${where}: more than ${MAX_PAGES} pages, or a Link that loops`);
    seen.add(res.next);
    url = res.next;
  }
  return { descriptors: filtered ? unique(out) : keep(out), via: 'api' };
}

/** The tag schema index of `digest`, or undefined when the tag does not exist. */
async function tagIndex(reg: RegistryClient, repo: string, digest: Digest, signal?: AbortSignal): Promise<{ doc: Record<string, unknown>; entries: Descriptor[] } | 'not-index' | undefined> {
  const tag = referrersTag(digest);
  let bytes: Buffer;
  try {
    bytes = (await reg.getManifest(repo, tag, signal)).bytes;
  } catch (err) {
    if (err instanceof RegistryError && err.notFound) return undefined;
    throw err;
  }
  // getManifest validated it as a manifest or index: only the kind is left to check.
  const parsed = parseManifest(bytes);
  if (parsed.kind !== 'index') return 'not-index';
  const doc = parseJson<Record<string, unknown>>(bytes, 'referrers index');
  return { doc, entries: parseReferrersIndex(bytes, `${reg.domain}/${repo}:${tag}`) };
}

async function fromTagSchema(reg: RegistryClient, repo: string, digest: Digest, keep: (l: Descriptor[]) => Descriptor[], signal?: AbortSignal): Promise<ReferrersList> {
  const found = await tagIndex(reg, repo, digest, signal);
  // No tag, or a tag someone used for an image: no referrers (the spec's "assume there are none").
  if (found === undefined || found === 'not-index') return { descriptors: [], via: 'none' };
  return { descriptors: keep(found.entries), via: 'tag-schema' };
}

/** A referrer to push: its manifest descriptor and exact bytes. */
export interface Referrer {
  descriptor: Descriptor;
  bytes: Buffer;
  /** Used only when the manifest itself gives none (an index without `artifactType`). */
  artifactType?: string;
}

/** How a push went: `api` (the registry keeps the list) or `tag-schema` (`added`: false when already listed). */
export type PushReferrerResult = { via: 'api' } | { via: 'tag-schema'; added: boolean };

/**
 * Pushes a referrer of `subject` into `repo` by digest. A registry that answers with a matching
 * `OCI-Subject` lists it itself; otherwise the tag schema index is read (or started empty), the
 * referrer's descriptor added once (artifactType and annotations copied from its manifest), and
 * the index put back under its tag.
 */
export async function pushReferrer(reg: RegistryClient, repo: string, subject: Descriptor, referrer: Referrer, signal?: AbortSignal): Promise<PushReferrerResult> {
  const { descriptor: d, bytes } = referrer;
  const actual = digestOf(bytes);
  if (actual !== d.digest || bytes.length !== d.size) throw new DigestMismatchError(`referrer ${d.digest}: its bytes are ${actual} (${bytes.length} bytes), not the descriptor's`);
  const info = referrerInfo(bytes);
  if (info.subject?.digest !== subject.digest) throw new InvalidArgumentError(`referrer ${d.digest}: its subject is ${info.subject?.digest ?? 'missing'}, not ${subject.digest}`);
  const put = await reg.putManifestResult(repo, d.digest, bytes, d.mediaType, signal);
  // An OCI-Subject naming another digest is a registry bug: not trusted, the tag is kept too.
  if (put.subject === subject.digest) return { via: 'api' };

  const found = await tagIndex(reg, repo, subject.digest, signal);
  const tag = referrersTag(subject.digest);
  // The spec: a tag holding something other than an index is a failure, not overwritten.
  if (found === 'not-index') throw new InvalidContentError(`referrers tag ${reg.domain}/${repo}:${tag} holds an image manifest, not an index: left alone`);
  const doc = found?.doc ?? { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] };
  const entries = found?.entries ?? [];
  if (entries.some((e) => e.digest === d.digest)) return { via: 'tag-schema', added: false };
  const artifactType = info.artifactType ?? referrer.artifactType;
  const entry: Descriptor = {
    mediaType: d.mediaType, digest: d.digest, size: d.size,
    ...(artifactType ? { artifactType } : {}), ...(info.annotations ? { annotations: info.annotations } : {}),
  };
  // Read-modify-write without a condition (ETag conditions are optional in the spec and not
  // relied on): two clients updating one tag at once may lose an entry, a race the spec leaves
  // to clients; a registry with the referrers API has none. Existing entries are kept as written.
  const index = { ...doc, schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...(doc['manifests'] as unknown[]), entry] };
  await reg.putManifest(repo, tag, Buffer.from(JSON.stringify(index)), OCI_INDEX, signal);
  return { via: 'tag-schema', added: true };
}
