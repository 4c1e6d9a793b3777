import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DigestMismatchError, NotFoundError } from '../../../src/errors.js';
import { digestOf } from '../../../src/image/digest.js';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST } from '../../../src/image/media-types.js';
import { setName } from '../../../src/store/index-file.js';
import { Store } from '../../../src/store/store.js';

let root: string;
let store: Store;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'store-test-'));
  store = await Store.open(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** Writes a one-layer image and returns its manifest descriptor and ID. */
async function makeImage(seed: string) {
  const layer = Buffer.from(`layer ${seed}`);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2024-01-01T00:00:00Z', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }));
  await store.blobs.write(Readable.from([layer]));
  await store.blobs.write(Readable.from([config]));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: OCI_LAYER, digest: digestOf(layer), size: layer.length }],
  }));
  await store.blobs.write(Readable.from([manifest]));
  return { desc: { mediaType: OCI_MANIFEST, digest: digestOf(manifest), size: manifest.length }, id: digestOf(config) };
}

describe('Store', () => {
  it('creates an OCI layout', async () => {
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(await readFile(join(root, 'index.json'), 'utf8')).manifests).toEqual([]);
  });

  it('never leaves a blob whose bytes do not match the expected digest', async () => {
    await expect(store.blobs.write(Readable.from([Buffer.from('abc')]), { digest: digestOf('abd') })).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(store.blobs.write(Readable.from([Buffer.from('abc')]), { size: 4 })).rejects.toBeInstanceOf(DigestMismatchError);
    expect(await readdir(join(root, 'blobs/sha256'))).toEqual([]);
    expect(await readdir(join(root, 'ingest'))).toEqual([]);
  });

  it('finds images by name, full ID, and unique ID prefix; refuses ambiguous prefixes', async () => {
    const a = await makeImage('a');
    await store.update((i) => setName(i, 'docker.io/library/apa000ex22:latest', a.desc));
    expect((await store.find('apa000ex22')).name).toBe('docker.io/library/apa000ex22:latest');
    expect((await store.find(a.id)).record.id).toBe(a.id);
    expect((await store.find(a.id.slice(7, 13))).byId).toBe(true);
    await expect(store.find('nope')).rejects.toThrow(new NotFoundError('No such image: nope:latest'));
    const ids = [a.id];
    for (let n = 0; ; n++) {
      const b = await makeImage(`b${n}`);
      await store.update((i) => setName(i, `docker.io/library/b${n}:latest`, b.desc));
      const clash = ids.find((id) => id[7] === b.id[7]);
      if (clash) {
        await expect(store.find(b.id[7]!)).rejects.toThrow(/multiple IDs found with provided prefix/);
        break;
      }
      ids.push(b.id);
    }
  });

  it('serializes concurrent updates: no name is lost', async () => {
    const a = await makeImage('a');
    await Promise.all(Array.from({ length: 50 }, (_, n) => store.update((i) => setName(i, `docker.io/library/n${n}:latest`, a.desc))));
    expect((await store.readIndex()).manifests).toHaveLength(50);
  });

  it('collects only blobs no remaining image reaches', async () => {
    const a = await makeImage('shared');
    const b = await makeImage('other');
    await store.update((i) => { setName(i, 'docker.io/library/a:1', a.desc); setName(i, 'docker.io/library/b:1', b.desc); });
    const before = (await store.blobs.list()).length;
    await store.update((i, tx) => {
      i.manifests = i.manifests.filter((m) => m.digest !== a.desc.digest);
      tx.collect([a.desc.digest, a.id, b.id]);
    });
    const after = await store.blobs.list();
    expect(after).toHaveLength(before - 2);
    expect(after).toContain(b.id);
  });
});
