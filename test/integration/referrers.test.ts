// Referrers (issue 13) against real registries: an artifact manifest whose `subject` is a pushed
// image is written the way the registry supports and listed back. Debian's docker-registry 2.8.2
// has no referrers API (GET /v2/<name>/referrers/<digest> answers 404, no OCI-Subject on a PUT):
// the tag schema index `sha256-<hex>` is maintained by the client. The built-in registry (vitest
// project `builtin-registry`) has the API: OCI-Subject on the PUT, the list from the registry.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/image/descriptor.js';
import type { Digest } from '../../src/image/digest.js';
import { OCI_INDEX, OCI_MANIFEST } from '../../src/image/media-types.js';
import { RegistryClient } from '../../src/registry/client.js';
import { OCI_EMPTY, listReferrers, pushReferrer, referrerInfo, referrersTag } from '../../src/registry/referrers.js';
import { Transport } from '../../src/transport/transport.js';
import type { Hostile } from '../helpers/hostile-registry.js';
import { NASTY, hasRawControl, makeTestImage, startHostile } from '../helpers/hostile-registry.js';
import { registryBackend } from '../helpers/registry.js';
import { useRegistry } from '../helpers/registry-suite.js';

const env = useRegistry();
const hasApi = registryBackend() === 'builtin';

const sha256 = (b: Buffer | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SIGNATURE = 'application/vnd.example.signature';
const SBOM = 'application/vnd.example.sbom';

let reg: RegistryClient;
beforeAll(() => {
  reg = new RegistryClient(env.host, new Transport({ certsDirs: [] }));
});

/** Uploads one blob in a single PUT (POST, then PUT ?digest= with the bytes). */
async function uploadBlob(repo: string, bytes: Buffer): Promise<void> {
  const s = await reg.startUpload(repo);
  await reg.finishUpload(repo, s, sha256(bytes), { make: () => Readable.from([bytes]), length: bytes.length });
}

/** Pushes a small image (its blobs, then its manifest under `tag`); returns its manifest descriptor. */
async function pushImage(repo: string, tag: string, seed: number): Promise<Descriptor> {
  const img = makeTestImage({ files: [Buffer.alloc(2048, seed)] });
  for (const b of [img.config, ...img.layers]) await uploadBlob(repo, b.bytes);
  const digest = await reg.putManifest(repo, tag, img.manifest, img.manifestMediaType);
  expect(digest).toBe(img.manifestDigest);
  return { mediaType: img.manifestMediaType, digest, size: img.manifest.length };
}

/** An artifact manifest (empty config, one payload layer) whose subject is `subject`; its blobs uploaded. */
async function makeArtifact(repo: string, subject: Descriptor, artifactType: string, payload: string, annotations?: Record<string, string>): Promise<{ descriptor: Descriptor; bytes: Buffer }> {
  const empty = Buffer.from('{}');
  const layer = Buffer.from(payload);
  await uploadBlob(repo, empty);
  await uploadBlob(repo, layer);
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { mediaType: OCI_EMPTY, digest: sha256(empty), size: empty.length },
    layers: [{ mediaType: `${artifactType}.payload`, digest: sha256(layer), size: layer.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(annotations ? { annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(m));
  return { descriptor: { mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length }, bytes };
}

/** One raw exchange (no retries): status, headers, body. */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${env.host}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The tag schema index of `subject`, read straight from the registry (undefined: no such tag). */
async function tagSchemaIndex(repo: string, subject: Descriptor): Promise<{ manifests: Descriptor[] } | undefined> {
  const r = await raw('GET', `/v2/${repo}/manifests/${referrersTag(subject.digest)}`, { accept: OCI_INDEX });
  if (r.status === 404) return undefined;
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as { manifests: Descriptor[] };
}

const byDigest = (a: Descriptor, b: Descriptor): number => a.digest.localeCompare(b.digest);

describe(`referrers (${hasApi ? 'built-in registry: referrers API' : 'docker-registry 2.8: tag schema'})`, () => {
  it('the referrers API: 200 with an empty OCI index on the built-in registry, 404 on docker-registry', async () => {
    const subject = await pushImage('probe', 'v1', 1);
    const r = await raw('GET', `/v2/probe/referrers/${subject.digest}`);
    if (hasApi) {
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe(OCI_INDEX);
      expect(JSON.parse(r.body)).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
      expect(await reg.referrers('probe', subject.digest)).toMatchObject({ filtersApplied: [] });
    } else {
      expect(r.status).toBe(404);
      expect(await reg.referrers('probe', subject.digest)).toBeUndefined();
    }
    // Nothing pushed yet: an empty list from the API; no API and no tag is `none`.
    expect(await listReferrers(reg, 'probe', subject)).toEqual({ descriptors: [], via: hasApi ? 'api' : 'none' });
  });

  it('pushReferrer writes a signature the way the registry supports; listReferrers finds it', async () => {
    const repo = 'signed';
    const subject = await pushImage(repo, 'v1', 2);
    const ann = { 'org.example.signer': 'nyapacchi', 'org.opencontainers.image.created': '2026-12-04T00:00:00Z' };
    const sig = await makeArtifact(repo, subject, SIGNATURE, 'signature-1', ann);
    expect(referrerInfo(sig.bytes)).toEqual({ subject, artifactType: SIGNATURE, annotations: ann });

    const pushed = await pushReferrer(reg, repo, subject, sig);
    expect(pushed).toEqual(hasApi ? { via: 'api' } : { via: 'tag-schema', added: true });
    const want: Descriptor = { ...sig.descriptor, artifactType: SIGNATURE, annotations: ann };
    expect(await listReferrers(reg, repo, subject)).toEqual({ descriptors: [want], via: hasApi ? 'api' : 'tag-schema' });

    // The referrer itself is in the repository by digest, its bytes intact.
    expect((await reg.getManifest(repo, sig.descriptor.digest)).bytes.equals(sig.bytes)).toBe(true);
    const tags = await reg.tags(repo);
    if (hasApi) {
      // The registry keeps the list: no tag written.
      expect(tags).toEqual(['v1']);
      expect(await tagSchemaIndex(repo, subject)).toBeUndefined();
    } else {
      expect(tags.sort()).toEqual([referrersTag(subject.digest), 'v1'].sort());
      const index = await tagSchemaIndex(repo, subject);
      expect(index).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [want] });
    }
  });

  it('two referrers of one subject are both listed; the artifactType filter keeps one', async () => {
    const repo = 'two-referrers';
    const subject = await pushImage(repo, 'v1', 3);
    const sig = await makeArtifact(repo, subject, SIGNATURE, 'signature-2');
    const sbom = await makeArtifact(repo, subject, SBOM, '{"sbom":true}', { 'org.example.sbom.format': 'json' });
    await pushReferrer(reg, repo, subject, sig);
    await pushReferrer(reg, repo, subject, sbom);
    const list = await listReferrers(reg, repo, subject);
    expect(list.via).toBe(hasApi ? 'api' : 'tag-schema');
    expect(list.descriptors.sort(byDigest)).toEqual(
      [
        { ...sig.descriptor, artifactType: SIGNATURE },
        { ...sbom.descriptor, artifactType: SBOM, annotations: { 'org.example.sbom.format': 'json' } },
      ].sort(byDigest),
    );
    const only = await listReferrers(reg, repo, subject, { artifactType: SBOM });
    expect(only.descriptors.map((d) => d.digest)).toEqual([sbom.descriptor.digest]);

    // Another image in the same repository has no referrers.
    const other = await pushImage(repo, 'v2', 4);
    expect((await listReferrers(reg, repo, other)).descriptors).toEqual([]);
  });

  it('pushing the same referrer twice lists it once (the tag schema index gets no duplicate)', async () => {
    const repo = 'twice';
    const subject = await pushImage(repo, 'v1', 5);
    const sig = await makeArtifact(repo, subject, SIGNATURE, 'signature-3');
    await pushReferrer(reg, repo, subject, sig);
    const again = await pushReferrer(reg, repo, subject, sig);
    expect(again).toEqual(hasApi ? { via: 'api' } : { via: 'tag-schema', added: false });
    expect((await listReferrers(reg, repo, subject)).descriptors.map((d) => d.digest)).toEqual([sig.descriptor.digest]);
    if (!hasApi) expect((await tagSchemaIndex(repo, subject))?.manifests.map((d) => d.digest)).toEqual([sig.descriptor.digest]);
  });

  it('refuses a referrer whose subject is another manifest, or whose bytes are not its descriptor', async () => {
    const repo = 'refused';
    const subject = await pushImage(repo, 'v1', 6);
    const other = await pushImage(repo, 'v2', 7);
    const sig = await makeArtifact(repo, subject, SIGNATURE, 'signature-4');
    await expect(pushReferrer(reg, repo, other, sig)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(pushReferrer(reg, repo, subject, { ...sig, descriptor: { ...sig.descriptor, size: sig.descriptor.size + 1 } })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect((await listReferrers(reg, repo, subject)).descriptors).toEqual([]);
  });
});

describe('referrer helpers', () => {
  it('referrersTag follows the spec table: algorithm cut to 32, encoded to 64, other characters -', () => {
    const a64 = 'a'.repeat(64);
    expect(referrersTag(`sha256:${a64}`)).toBe(`sha256-${a64}`);
    expect(referrersTag(`sha512:${'a'.repeat(128)}`)).toBe(`sha512-${a64}`);
    expect(
      referrersTag('test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation'),
    ).toBe('test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot');
  });

  it('referrerInfo: artifactType falls back to the config media type; none without a subject', () => {
    const cfg = { mediaType: 'application/vnd.example.config', digest: sha256('{}'), size: 2 };
    const m = (extra: object): Buffer => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: cfg, layers: [], ...extra }));
    const subject = { mediaType: OCI_MANIFEST, digest: sha256('x'), size: 1 };
    expect(referrerInfo(m({ subject }))).toEqual({ subject, artifactType: 'application/vnd.example.config' });
    expect(referrerInfo(m({ subject, artifactType: '' }))).toEqual({ subject, artifactType: 'application/vnd.example.config' });
    expect(referrerInfo(m({}))).toEqual({ artifactType: 'application/vnd.example.config' });
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], subject }));
    expect(referrerInfo(index)).toEqual({ subject });
    expect(() => referrerInfo(m({ subject: { digest: 'nope' } }))).toThrow(/subject/);
  });
});

// The quirk paths, against the hostile registry (a stand-in for a bad registry, not the one under
// test): Link pagination, a Link that loops, a body that is not an index, control characters,
// an OCI-Subject naming another digest, a referrers tag that holds an image.
describe('referrers from a misbehaving registry', () => {
  let bad: Hostile;
  let client: RegistryClient;
  const subject: Descriptor = { mediaType: OCI_MANIFEST, digest: sha256('subject'), size: 7 };
  const entry = (n: number): Descriptor => ({ mediaType: OCI_MANIFEST, digest: sha256(`referrer-${n}`), size: 100 + n, artifactType: SIGNATURE });
  const index = (manifests: unknown[]): string => JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
  /** Serves `GET /v2/<repo>/referrers/...` with `answer(page)` (page: the `page` query, 1 when absent). */
  const referrersRoute = (answer: (page: number, res: import('node:http').ServerResponse) => void): void => {
    bad.onOther((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (!/^\/v2\/.+\/referrers\/sha256:[a-f0-9]{64}$/.test(u.pathname)) return false;
      answer(Number(u.searchParams.get('page') ?? '1'), res);
      return true;
    });
  };
  beforeAll(async () => {
    bad = await startHostile();
    client = new RegistryClient(bad.host, new Transport({ certsDirs: [], retry: { baseDelayMs: 1, retries: 0 } }));
  });

  it('follows Link pages (relative URLs resolved) and dedupes a repeated entry', async () => {
    referrersRoute((page, res) => {
      const headers: Record<string, string> = { 'content-type': OCI_INDEX };
      if (page === 1) headers['link'] = `</v2/paged/referrers/${subject.digest}?page=2>; rel="next"`;
      res.writeHead(200, headers).end(index(page === 1 ? [entry(1), entry(2)] : [entry(2), entry(3)]));
    });
    expect(await listReferrers(client, 'paged', subject)).toEqual({ descriptors: [entry(1), entry(2), entry(3)], via: 'api' });
  });

  it('a Link that loops ends in a typed error, not a loop', async () => {
    referrersRoute((_page, res) => {
      res.writeHead(200, { 'content-type': OCI_INDEX, link: `</v2/loop/referrers/${subject.digest}?page=2>; rel="next"` }).end(index([entry(1)]));
    });
    await expect(listReferrers(client, 'loop', subject)).rejects.toMatchObject({ code: 'INVALID_CONTENT', message: expect.stringMatching(/Link that loops/) as unknown });
  });

  it('an answer that is not an index, or has a bad entry, is INVALID_CONTENT with nothing of the body shown', async () => {
    for (const body of [`${NASTY} not json`, JSON.stringify({ manifests: 'x' }), index([{ mediaType: NASTY, digest: sha256('x'), size: 1 }])]) {
      referrersRoute((_page, res) => res.writeHead(200, { 'content-type': OCI_INDEX }).end(body));
      const err = (await listReferrers(client, 'garbage', subject).catch((e: unknown) => e)) as Error & { code: string };
      expect(err.code).toBe('INVALID_CONTENT');
      expect(hasRawControl(err.message)).toBe(false);
      expect(err.message).not.toContain('RED');
    }
  });

  it('an error answer is a RegistryError with its message escaped', async () => {
    referrersRoute((_page, res) => res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'DENIED', message: `no ${NASTY}` }] })));
    const err = (await listReferrers(client, 'denied', subject).catch((e: unknown) => e)) as Error & { code: string; status: number };
    expect(err).toMatchObject({ code: 'DENIED', status: 403 });
    expect(hasRawControl(err.message)).toBe(false);
  });

  it('an OCI-Subject naming another digest is not trusted: the tag schema index is written too', async () => {
    bad.onOther(() => false);
    const img = makeTestImage();
    const subj: Descriptor = { mediaType: img.manifestMediaType, digest: img.manifestDigest as Digest, size: img.manifest.length };
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SIGNATURE, config: { mediaType: OCI_EMPTY, digest: sha256('{}'), size: 2 }, layers: [], subject: subj }));
    const ref = { descriptor: { mediaType: OCI_MANIFEST, digest: sha256(m), size: m.length }, bytes: m };
    const puts: string[] = [];
    bad.on('lying', (req, res, info) => {
      if (info.kind !== 'manifests') return false;
      if (req.method === 'PUT') {
        puts.push(info.ref);
        req.resume();
        req.on('end', () => res.writeHead(201, { 'oci-subject': sha256('another'), 'docker-content-digest': info.ref.startsWith('sha256:') ? info.ref : sha256('index'), 'content-length': 0 }).end());
        return true;
      }
      if (info.ref === referrersTag(subj.digest)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN' }] }));
        return true;
      }
      return false;
    });
    expect(await pushReferrer(client, 'lying', subj, ref)).toEqual({ via: 'tag-schema', added: true });
    expect(puts).toEqual([ref.descriptor.digest, referrersTag(subj.digest)]);
  });

  it('a referrers tag holding an image: listed as none, and a push refuses to overwrite it', async () => {
    // The hostile registry has no referrers API (404) and serves its image for every tag.
    bad.onOther(() => false);
    const img = makeTestImage();
    const subj: Descriptor = { mediaType: img.manifestMediaType, digest: img.manifestDigest as Digest, size: img.manifest.length };
    expect(await listReferrers(client, 'image-tag', subj)).toEqual({ descriptors: [], via: 'none' });
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_EMPTY, digest: sha256('{}'), size: 2 }, layers: [], subject: subj }));
    bad.on('image-tag', (req, res, info) => {
      if (info.kind !== 'manifests' || req.method !== 'PUT') return false;
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-length': 0 }).end());
      return true;
    });
    const before = bad.requests.length;
    await expect(pushReferrer(client, 'image-tag', subj, { descriptor: { mediaType: OCI_MANIFEST, digest: sha256(m), size: m.length }, bytes: m })).rejects.toMatchObject({ code: 'INVALID_CONTENT' });
    expect(bad.requests.slice(before).filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([`/v2/image-tag/manifests/${sha256(m)}`]);
  });
});
