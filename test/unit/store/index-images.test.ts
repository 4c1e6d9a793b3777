// Index images in the store (issue 13, item 2): the ID rule, the platforms present or absent,
// SIZE over the platforms present, damage, an attestation never chosen, and the summaries sidecar.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Descriptor } from '../../../src/image/descriptor.js';
import { digestOf } from '../../../src/image/digest.js';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST } from '../../../src/image/media-types.js';
import { hostPlatform } from '../../../src/image/platform.js';
import { setName } from '../../../src/store/index-file.js';
import type { ImageRecord } from '../../../src/store/images.js';
import { findPlatform, missingPlatforms, missingPlatformsError, presentPlatforms } from '../../../src/store/images.js';
import { Store } from '../../../src/store/store.js';

let root: string;
let store: Store;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'index-images-'));
  store = await Store.open(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const put = async (bytes: Buffer): Promise<void> => {
  await store.blobs.write(Readable.from([bytes]));
};

interface Made { manifest: Descriptor; bytes: Buffer[]; config: Descriptor }

/** The blobs of a one-layer image of `arch` (not written), or of an attestation (`in-toto` config). */
function image(arch: string, seed: string, attestation = false): Made {
  const layer = Buffer.from(`layer ${seed}`);
  const configType = attestation ? 'application/vnd.in-toto+json' : OCI_CONFIG;
  const config = Buffer.from(JSON.stringify(attestation ? { predicate: seed } : { architecture: arch, os: 'linux', created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: configType, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: OCI_LAYER, digest: digestOf(layer), size: layer.length }],
  }));
  return {
    manifest: { mediaType: OCI_MANIFEST, digest: digestOf(manifest), size: manifest.length },
    config: { mediaType: configType, digest: digestOf(config), size: config.length },
    bytes: [manifest, config, layer],
  };
}

const other = hostPlatform().architecture === 'arm64' ? 'amd64' : 'arm64';

/** An index of this machine's platform, another one and an attestation; `present` says which go in the store. */
async function makeIndex(present: { host: boolean; other: boolean; attestation: boolean }): Promise<{ index: Descriptor; host: Made; other: Made; att: Made }> {
  const host = image(hostPlatform().architecture, 'host');
  const oth = image(other, 'other');
  const att = image('unknown', 'att', true);
  const doc = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_INDEX,
    manifests: [
      { ...oth.manifest, platform: { os: 'linux', architecture: other } },
      { ...host.manifest, platform: { os: 'linux', architecture: hostPlatform().architecture } },
      { ...att.manifest, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': host.manifest.digest } },
    ],
  }));
  await put(doc);
  if (present.host) for (const b of host.bytes) await put(b);
  if (present.other) for (const b of oth.bytes) await put(b);
  if (present.attestation) for (const b of att.bytes) await put(b);
  const index = { mediaType: OCI_INDEX, digest: digestOf(doc), size: doc.length };
  await store.update((i) => setName(i, 'docker.io/library/multi:1', index));
  return { index, host, other: oth, att };
}

const sizeOf = (m: Made): number => m.bytes.reduce((n, b) => n + b.length, 0);

async function record(): Promise<ImageRecord> {
  return (await store.find('multi:1')).record;
}

describe('an index image', () => {
  it('ID = the index digest; one platform present: it is chosen, the others absent, SIZE its bytes', async () => {
    const { index, other: oth } = await makeIndex({ host: false, other: true, attestation: false });
    const r = await record();
    expect(r.id).toBe(index.digest);
    expect(r.manifestDescriptor.digest).toBe(oth.manifest.digest);
    expect(r.config.architecture).toBe(other);
    expect(r.size).toBe(index.size + sizeOf(oth));
    expect(presentPlatforms(r).map((p) => p.platform?.architecture)).toEqual([other]);
    expect(missingPlatforms(r).map((p) => p.platform?.architecture)).toEqual([hostPlatform().architecture, 'unknown']);
    expect(findPlatform(r, { os: 'linux', architecture: other })).toMatchObject({ present: true, descriptor: oth.manifest });
    expect(findPlatform(r, { os: 'linux', architecture: hostPlatform().architecture })?.present).toBe(false);
    expect(findPlatform(r, { os: 'linux', architecture: 's390x' })).toBeUndefined();
    expect(missingPlatformsError(r, 'multi:1', 'push')?.message)
      .toBe(`image multi:1 has platforms that are not in the store: linux/${hostPlatform().architecture}, unknown/unknown; push one with --platform linux/${other}`);
    expect((await store.find(index.digest.slice(7, 19))).record.id).toBe(index.digest);
    expect((await store.find(`multi@${oth.manifest.digest}`)).record.id).toBe(index.digest);
  });

  it('every platform present: this machine\'s chosen, the attestation marked and never chosen, SIZE all of them', async () => {
    const { index, host, other: oth, att } = await makeIndex({ host: true, other: true, attestation: true });
    const r = await record();
    expect(r.manifestDescriptor.digest).toBe(host.manifest.digest);
    expect(r.platforms.map((p) => [p.present, p.artifact])).toEqual([[true, false], [true, false], [true, true]]);
    expect(r.size).toBe(index.size + sizeOf(host) + sizeOf(oth) + sizeOf(att));
    expect(missingPlatformsError(r, 'multi:1', 'push')).toBeUndefined();
  });

  it('only the attestation present: damaged (no platform manifest in the store)', async () => {
    await makeIndex({ host: false, other: false, attestation: true });
    const [img] = await store.storedImages();
    expect(img?.damaged).toMatch(/has no platform manifest in the store$/);
  });

  it('a present platform lacking its layer: damaged, ID still the index digest', async () => {
    const { index, other: oth } = await makeIndex({ host: false, other: true, attestation: false });
    await store.blobs.remove(digestOf(oth.bytes[2]!));
    const [img] = await store.storedImages();
    expect(img).toMatchObject({ id: index.digest, damaged: `blob ${digestOf(oth.bytes[2]!)} is missing` });
  });

  it('the summaries sidecar follows the platforms present', async () => {
    const { index, host, other: oth } = await makeIndex({ host: false, other: true, attestation: false });
    expect((await store.summaries()).map((s) => [s.id, s.size])).toEqual([[index.digest, index.size + sizeOf(oth)]]);
    for (const b of host.bytes) await put(b);
    expect((await store.summaries()).map((s) => [s.id, s.size])).toEqual([[index.digest, index.size + sizeOf(oth) + sizeOf(host)]]);
    // Read from the sidecar this time (nothing changed): the same.
    expect((await store.summaries()).map((s) => [s.id, s.size])).toEqual([[index.digest, index.size + sizeOf(oth) + sizeOf(host)]]);
  });

  it('a single-manifest image keeps its config digest as ID', async () => {
    const one = image('amd64', 'single');
    for (const b of one.bytes) await put(b);
    await store.update((i) => setName(i, 'docker.io/library/single:1', one.manifest));
    const r = (await store.find('single:1')).record;
    expect(r.id).toBe(one.config.digest);
    expect(r.platforms).toEqual([{ platform: { os: 'linux', architecture: 'amd64' }, descriptor: one.manifest, present: true, artifact: false }]);
  });
});
