// `ts-docker copy` between registries without pulling (issue 13): a two-platform index with a
// signature-like referrer goes docker-registry -> built-in registry -> docker-registry; the index
// digest, both platforms and the referrer arrive (the referrers API on the built-in registry, the
// tag schema on docker-registry 2.8.2); a second run is `up to date` after two requests to the
// destination; a remote retag moves no blob; a cross-registry copy of 4 x 64 MiB streams with
// bounded memory and no temp file in the store; a copy killed half-way resumes.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../src/image/descriptor.js';
import type { Digest } from '../../src/image/digest.js';
import { OCI_MANIFEST } from '../../src/image/media-types.js';
import { RegistryClient } from '../../src/registry/client.js';
import { OCI_EMPTY, listReferrers, pushReferrer } from '../../src/registry/referrers.js';
import { Transport } from '../../src/transport/transport.js';
import { lines, makeRoot, makeSandbox } from '../helpers/cli.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import type { MultiPlatformLayout } from '../helpers/images.js';
import { makeImage, makeMultiPlatformLayout } from '../helpers/images.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry } from '../helpers/registry.js';
import { runMeasured, show, startCli, tsd } from '../helpers/remote-cli.js';
import { skopeoOk } from '../helpers/skopeo.js';

const sha256 = (b: Buffer | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const SIGNATURE = 'application/vnd.example.signature';

let distA: Registry;
let builtin: Registry;
/** Proxies in front of each, for request counts. */
let pA: FaultProxy;
let pB: FaultProxy;
let multi: MultiPlatformLayout;
let root: string;
let signature: Descriptor;
const index = (): Descriptor => ({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: multi.indexDigest as Digest, size: 0 });

/** Uploads one blob in a single PUT. */
async function upload(reg: RegistryClient, repo: string, bytes: Buffer): Promise<void> {
  const s = await reg.startUpload(repo);
  await reg.finishUpload(repo, s, sha256(bytes), { make: () => Readable.from([bytes]), length: bytes.length });
}

beforeAll(async () => {
  distA = await startRegistry({ backend: 'docker-registry' });
  builtin = await startRegistry({ backend: 'builtin' });
  pA = await startFaultProxy(distA.host);
  pB = await startFaultProxy(builtin.host);
  multi = await makeMultiPlatformLayout();
  root = await makeRoot();
  await skopeoOk(['copy', '--all', multi.ociRef, `docker://${distA.host}/multi:1`]);
  // A signature of the index: an artifact manifest whose subject is it, listed by the tag schema on docker-registry.
  const reg = new RegistryClient(distA.host, new Transport({ certsDirs: [] }));
  const raw = await reg.getManifest('multi', multi.indexDigest);
  const subject: Descriptor = { mediaType: raw.mediaType, digest: raw.digest, size: raw.bytes.length };
  const empty = Buffer.from('{}');
  const payload = Buffer.from('a signature of the index');
  await upload(reg, 'multi', empty);
  await upload(reg, 'multi', payload);
  const bytes = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SIGNATURE,
    config: { mediaType: OCI_EMPTY, digest: sha256(empty), size: 2 }, layers: [{ mediaType: 'application/vnd.example.signature.payload', digest: sha256(payload), size: payload.length }], subject,
  }));
  signature = { mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length };
  expect((await pushReferrer(reg, 'multi', subject, { descriptor: signature, bytes })).via).toBe('tag-schema');
  await reg.transport.close();
}, 120_000);

afterAll(async () => {
  await pA?.stop();
  await pB?.stop();
  await distA?.stop();
  await builtin?.stop();
});

async function referrersAt(host: string, repo: string): Promise<{ digests: string[]; via: string }> {
  const reg = new RegistryClient(host, new Transport({ certsDirs: [] }));
  try {
    const r = await listReferrers(reg, repo, index());
    return { digests: r.descriptors.map((d) => d.digest), via: r.via };
  } finally {
    await reg.transport.close();
  }
}

/** What skopeo reads at `ref`: the raw manifest's digest and, for an index, its children's. */
async function skopeoDigests(ref: string): Promise<{ digest: string; children: string[] }> {
  const raw = (await skopeoOk(['inspect', '--raw', `docker://${ref}`])).stdout;
  const doc = JSON.parse(raw) as { manifests?: Array<{ digest: string }> };
  return { digest: sha256(Buffer.from(raw)), children: (doc.manifests ?? []).map((m) => m.digest) };
}

describe('copy between registries', () => {
  it('docker-registry -> built-in -> docker-registry: the index digest, both platforms and the referrer arrive each way', async () => {
    const there = await tsd(['copy', `${distA.host}/multi:1`, `${pB.host}/copied/multi:1`], { root });
    expect(there.code, show(there)).toBe(0);
    expect(lines(there.stdout).at(-1)).toBe(`Digest: ${multi.indexDigest}`);
    const b = await skopeoDigests(`${builtin.host}/copied/multi:1`);
    expect(b).toEqual({ digest: multi.indexDigest, children: [multi.amd64.manifest.digest, multi.arm64.manifest.digest] });
    for (const c of b.children) await skopeoOk(['inspect', '--raw', `docker://${builtin.host}/copied/multi@${c}`]);
    // The built-in registry lists the referrer itself (the API), docker-registry by the tag schema.
    expect(await referrersAt(builtin.host, 'copied/multi')).toEqual({ digests: [signature.digest], via: 'api' });

    const back = await tsd(['copy', `${builtin.host}/copied/multi:1`, `${distA.host}/back/multi:2`], { root });
    expect(back.code, show(back)).toBe(0);
    expect(await skopeoDigests(`${distA.host}/back/multi:2`)).toEqual(b);
    expect(await referrersAt(distA.host, 'back/multi')).toEqual({ digests: [signature.digest], via: 'tag-schema' });
  });

  it('registry -> oci-archive -> registry: the referrer travels in the archive (an index.json entry by digest) and arrives', async () => {
    const file = join(await makeSandbox(), 'signed.oci.tar');
    const out = await tsd(['copy', `${distA.host}/multi:1`, `oci-archive:${file}:1`], { root });
    expect(out.code, show(out)).toBe(0);
    const back = await tsd(['copy', `oci-archive:${file}:1`, `${builtin.host}/via-archive/multi:1`], { root });
    expect(back.code, show(back)).toBe(0);
    expect((await skopeoDigests(`${builtin.host}/via-archive/multi:1`)).digest).toBe(multi.indexDigest);
    expect(await referrersAt(builtin.host, 'via-archive/multi')).toEqual({ digests: [signature.digest], via: 'api' });
    const none = await tsd(['copy', '--no-referrers', `oci-archive:${file}:1`, `${distA.host}/unsigned/multi:1`], { root });
    expect(none.code, show(none)).toBe(0);
    expect(await referrersAt(distA.host, 'unsigned/multi')).toEqual({ digests: [], via: 'none' });
  });

  it('again: "up to date", at most 2 requests to the destination (ping, HEAD of the tag)', async () => {
    pB.resetStats();
    const again = await tsd(['copy', `${distA.host}/multi:1`, `${pB.host}/copied/multi:1`], { root });
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain('up to date');
    const reqs = pB.stats().requests.map((r) => `${r.method} ${r.path}`);
    expect(reqs.length, reqs.join('\n')).toBeLessThanOrEqual(2);
    expect(reqs).toEqual(['GET /v2/', 'HEAD /v2/copied/multi/manifests/1']);
  });

  it('remote retag: no blob moves, the new tag resolves to the same digest', async () => {
    pA.resetStats();
    const r = await tsd(['copy', `${pA.host}/multi:1`, `${pA.host}/multi:retagged`], { root });
    expect(r.code, show(r)).toBe(0);
    const reqs = pA.stats().requests;
    expect(reqs.filter((q) => /\/blobs\//.test(q.path)), reqs.map((q) => `${q.method} ${q.path}`).join('\n')).toEqual([]);
    expect(reqs.filter((q) => q.method === 'PUT').map((q) => q.path)).toEqual(['/v2/multi/manifests/retagged']);
    expect((await skopeoDigests(`${distA.host}/multi:retagged`)).digest).toBe(multi.indexDigest);
  });

  it('across repositories of one registry: blobs are mounted, not uploaded', async () => {
    pA.resetStats();
    const r = await tsd(['copy', `${pA.host}/multi:1`, `${pA.host}/other/multi:1`], { root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/: Mounted from multi$/m);
    expect(pA.stats().requests.filter((q) => q.method === 'PATCH')).toEqual([]);
    expect((await skopeoDigests(`${distA.host}/other/multi:1`)).digest).toBe(multi.indexDigest);
  });

  it('--platform linux/arm64: only that manifest, under the tag', async () => {
    const r = await tsd(['copy', '--platform', 'linux/arm64', `${distA.host}/multi:1`, `${builtin.host}/one/multi:arm`], { root });
    expect(r.code, show(r)).toBe(0);
    expect((await skopeoDigests(`${builtin.host}/one/multi:arm`)).digest).toBe(multi.arm64.manifest.digest);
    const again = await tsd(['copy', '--platform', 'linux/arm64', `${distA.host}/multi:1`, `${builtin.host}/one/multi:arm`], { root });
    expect(again.stdout).toContain(`up to date (${multi.arm64.manifest.digest})`);
  });
});

describe('a large cross-registry copy', () => {
  const BIG = `${'big'}/layers:1`;
  beforeAll(async () => {
    const src = await makeRoot();
    await makeImage(src, `${distA.host}/${BIG}`, [1, 2, 3, 4].map((seed) => ({ sizeMiB: 64, seed: 9100 + seed })));
    const p = await tsd(['push', `${distA.host}/${BIG}`], { root: src });
    expect(p.code, show(p)).toBe(0);
  }, 240_000);

  it('4 x 64 MiB: streams registry to registry with bounded memory and no temp file in the store', async () => {
    const store = await makeRoot();
    const { r, peakKb } = await runMeasured(['copy', `${distA.host}/${BIG}`, `${builtin.host}/${BIG}`], store);
    expect(r.code, show(r)).toBe(0);
    // 256 MiB of layers moved; the process holds a few chunks at most (measured ~100-150 MiB, most of it Node itself).
    expect(peakKb, `peak RSS ${peakKb} kB`).toBeLessThan(200 * 1024);
    const ingest = await readdir(join(store, 'ingest'), { recursive: true }).catch(() => []);
    expect(ingest.filter((f) => !f.toString().startsWith('claims')), 'nothing staged in the store').toEqual([]);
    expect((await skopeoDigests(`${builtin.host}/${BIG}`)).digest).toBe((await skopeoDigests(`${distA.host}/${BIG}`)).digest);
  }, 120_000);

  it('killed half-way, the next run resumes: the bytes sent in all stay well under two copies', async () => {
    const store = await makeRoot();
    const dest = `${pB.host}/resumed/layers:1`;
    pB.resetStats();
    const cli = await startCli(['copy', '--max-concurrent', '1', `${distA.host}/${BIG}`, dest], { root: store });
    // Wait until about half of the 256 MiB went up, then kill -9.
    for (let i = 0; i < 600 && pB.stats().requestBytes({ method: 'PATCH' }) < 128 * 1024 * 1024; i++) await new Promise((res) => setTimeout(res, 50));
    cli.kill('SIGKILL');
    await cli.result;
    const first = pB.stats().requestBytes((q) => /\/blobs\/uploads/.test(q.path));
    expect(first).toBeGreaterThan(64 * 1024 * 1024);
    const r = await tsd(['copy', `${distA.host}/${BIG}`, dest], { root: store });
    expect(r.code, show(r)).toBe(0);
    const total = pB.stats().requestBytes((q) => /\/blobs\/uploads/.test(q.path));
    expect(total, `sent ${total} bytes for 256 MiB`).toBeLessThan(1.5 * 256 * 1024 * 1024);
    expect((await skopeoDigests(`${builtin.host}/resumed/layers:1`)).digest).toBe((await skopeoDigests(`${distA.host}/${BIG}`)).digest);
  }, 180_000);
});
