// Issue 12 item 8: layers are checked against the config's rootfs.diff_ids while they stream in
// (gunzip + SHA-256 of the uncompressed bytes, on the hashing worker for big layers, inline for
// small ones; a plain tar's diff_id is its digest). A mismatch is docker's refusal, exit 1, the
// store byte-for-byte as it was (the partial file removed). The uncompressed digest and size of
// every layer pulled or loaded is kept in cache/layers/<hex>.json.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { fileEntry, packTar } from '../helpers/archive.js';
import { expectOneLineError, makeRoot, makeSandbox, runCli, snapshotStore as snapshotTree } from '../helpers/cli.js';
import type { Hostile, TestImage } from '../helpers/hostile-registry.js';
import { makeTestImage, sha256, startHostile, tarOf } from '../helpers/hostile-registry.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';

let h: Hostile;
beforeAll(async () => {
  h = await startHostile();
});

let n = 0;
/** Serves `image` under a new repository; returns the name to pull. */
function serve(what: string, image: TestImage): string {
  const repo = `diff/${what}-${++n}`;
  h.setImage(repo, image);
  return `${h.host}/${repo}:1`;
}

/** `image` with its one layer replaced by the uncompressed tar (a plain `tar` layer). */
function plainLayer(image: TestImage): TestImage {
  const tar = image.tars[0]!;
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(tar), size: tar.length, bytes: tar };
  const m = JSON.parse(image.manifest.toString()) as Record<string, unknown>;
  m['layers'] = [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }];
  const manifest = Buffer.from(JSON.stringify(m));
  return { ...image, manifest, manifestDigest: sha256(manifest), layers: [layer] };
}

/** A store holding one image already. */
async function storeWithImage(): Promise<string> {
  const root = await makeRoot();
  const r = await tsd(['pull', `${h.host}/base:1`], { root });
  expect(r.code, show(r)).toBe(0);
  return root;
}

/** The layer record the store keeps for `blob`. */
function layerRecord(root: string, blob: string): unknown {
  const p = join(root, 'cache', 'layers', `${blob.slice(7)}.json`);
  return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
}

const BIG = 20 * 1024 * 1024;
const wrongDiffId = (c: Record<string, unknown>): void => {
  (c['rootfs'] as { diff_ids: string[] }).diff_ids[0] = sha256('not this layer');
};

describe('a layer whose uncompressed bytes are not its diff_id is refused', () => {
  const cases: Array<[string, () => TestImage]> = [
    ['small gzip layer (hashed inline)', () => makeTestImage({ editConfig: wrongDiffId })],
    ['big gzip layer (hashed on the worker)', () => makeTestImage({ files: [randomBytes(BIG)], editConfig: wrongDiffId })],
    ['plain tar layer', () => plainLayer(makeTestImage({ editConfig: wrongDiffId }))],
  ];
  for (const [what, make] of cases) {
    it(what, async () => {
      const image = make();
      const name = serve('mismatch', image);
      const root = await storeWithImage();
      const before = await snapshotTree(root);
      const r = await tsd(['pull', name], { root });
      expectOneLineError(r, `layer diff_id mismatch for ${image.layers[0]!.digest}: got ${sha256(image.tars[0]!)}, expected ${sha256('not this layer')}`);
      // The partial file is removed too: nothing of the refused layer stays.
      expect(await snapshotTree(root), 'the store is byte-for-byte as it was').toEqual(before);
      // A valid image pulls afterwards and skopeo reads the store.
      const good = serve('good', makeTestImage({ files: [randomBytes(4096)] }));
      expect((await tsd(['pull', good], { root })).code).toBe(0);
      expect((await skopeoInspect(`oci:${root}:${good}`)).Layers).toHaveLength(1);
    });
  }

  it('a gzip layer with the right digest that does not decompress is refused', async () => {
    const bytes = Buffer.concat([gzipSync(Buffer.alloc(1000)).subarray(0, 10), randomBytes(5000)]);
    const image = makeTestImage();
    const layer = { mediaType: image.layers[0]!.mediaType, digest: sha256(bytes), size: bytes.length, bytes };
    const m = JSON.parse(image.manifest.toString()) as Record<string, unknown>;
    m['layers'] = [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }];
    const manifest = Buffer.from(JSON.stringify(m));
    const name = serve('not-gzip', { ...image, manifest, manifestDigest: sha256(manifest), layers: [layer] });
    const root = await storeWithImage();
    const before = await snapshotTree(root);
    const r = await tsd(['pull', name], { root });
    expectOneLineError(r, `invalid layer ${layer.digest}: it does not decompress`);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('a layer the store has, measured, is checked against a config that lists another diff_id', async () => {
    const image = makeTestImage({ files: [randomBytes(8192)] });
    const root = await makeRoot();
    expect((await tsd(['pull', serve('first', image)], { root })).code).toBe(0);
    const liar = makeTestImage({ files: [], editConfig: (c) => ((c['rootfs'] as { diff_ids: string[] }).diff_ids = [sha256('another')]) });
    const m = JSON.parse(liar.manifest.toString()) as Record<string, unknown>;
    m['layers'] = [{ mediaType: image.layers[0]!.mediaType, digest: image.layers[0]!.digest, size: image.layers[0]!.size }];
    const manifest = Buffer.from(JSON.stringify(m));
    const before = await snapshotTree(root);
    const r = await tsd(['pull', serve('liar', { ...liar, manifest, manifestDigest: sha256(manifest), layers: image.layers })], { root });
    expectOneLineError(r, `layer diff_id mismatch for ${image.layers[0]!.digest}: got ${sha256(image.tars[0]!)}, expected ${sha256('another')}`);
    expect(await snapshotTree(root)).toEqual(before);
  });
});

describe('the uncompressed digest and size of each layer are recorded', () => {
  const cases: Array<[string, () => TestImage]> = [
    ['small gzip layer', () => makeTestImage({ files: [randomBytes(10_000)] })],
    ['big gzip layer', () => makeTestImage({ files: [randomBytes(BIG)] })],
    ['plain tar layer', () => plainLayer(makeTestImage({ files: [randomBytes(10_000)] }))],
  ];
  for (const [what, make] of cases) {
    it(`pull: ${what}`, async () => {
      const image = make();
      const root = await makeRoot();
      const r = await tsd(['pull', serve('record', image)], { root });
      expect(r.code, show(r)).toBe(0);
      expect(layerRecord(root, image.layers[0]!.digest)).toEqual({ diffId: sha256(image.tars[0]!), size: image.tars[0]!.length });
      expect(existsSync(join(root, 'blobs', 'sha256', image.layers[0]!.digest.slice(7)))).toBe(true);
    });
  }

  it('load: a docker-archive layer', async () => {
    const tar = tarOf('hello.txt', randomBytes(3000));
    const layer = gzipSync(tar);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } }));
    const path = join(await makeSandbox(), 'a.tar');
    await writeFile(path, await packTar([
      fileEntry('manifest.json', JSON.stringify([{ Config: 'config.json', RepoTags: ['diff/load:1'], Layers: ['layer.tar.gz'] }])),
      fileEntry('config.json', config),
      fileEntry('layer.tar.gz', layer),
    ]));
    const root = await makeRoot();
    const r = await runCli(['load', '-i', path], { root });
    expect(r.code, show(r)).toBe(0);
    expect(layerRecord(root, sha256(layer))).toEqual({ diffId: sha256(tar), size: tar.length });
  });
});

describe('two pulls of one image in one store: the partial file one staged and the other verifies', () => {
  // Issue 12 item 5 (the claim race): pull A downloads layer X whole (its claim on X's partial
  // file ends there) and stages it, to rename it into blobs/ at its commit; pull B, arriving
  // later, finds X's partial file complete and verifies it without waiting (nobody holds the
  // claim). When A committed between B looking at the file and B's hash opening it, B failed with
  // `ENOENT ... ingest/partial/<hex>`. The hostile registry holds A's last layer Y until B asks
  // for the manifest, so that A's commit lands in that window; the delay sweeps it.
  it('both succeed, every time (20 rounds)', async () => {
    const image = makeTestImage({ files: [randomBytes(24 * 1024 * 1024), randomBytes(4096)] });
    const [x, y] = image.layers;
    for (let round = 0; round < 20; round++) {
      const a = `race/a-${round}`;
      const b = `race/b-${round}`;
      h.setImage(a, image);
      h.setImage(b, image);
      let releaseY!: () => void;
      const yHeld = new Promise<void>((resolve) => (releaseY = resolve));
      let xSent = false;
      h.on(a, async (req, res, info) => {
        if (info.kind !== 'blobs') return false;
        if (info.ref === x!.digest) res.on('finish', () => (xSent = true));
        if (info.ref === y!.digest) await yHeld;
        return false;
      });
      h.on(b, async (_req, _res, info) => {
        if (info.kind === 'manifests') {
          releaseY();
          await new Promise((resolve) => setTimeout(resolve, (round % 5) * 6));
        }
        return false;
      });
      const root = await makeRoot();
      const { startCli } = await import('../helpers/remote-cli.js');
      const first = await startCli(['pull', `${h.host}/${a}:1`], { root });
      const { waitUntil } = await import('../helpers/daemon.js');
      await waitUntil('pull A to receive layer X', () => (xSent ? true : undefined), { timeoutMs: 60_000, intervalMs: 5 });
      // A verifies and stages X, then waits for Y; B starts meanwhile (a process start, ~0.2 s).
      const second = await tsd(['pull', `${h.host}/${b}:1`], { root });
      releaseY();
      const ra = await first.result;
      expect(ra.code, `round ${round}, pull A: ${show(ra)}`).toBe(0);
      expect(second.code, `round ${round}, pull B: ${show(second)}`).toBe(0);
      const blobs = await snapshotTree(join(root, 'blobs'));
      for (const l of image.layers) expect(blobs.get(join('sha256', l.digest.slice(7))), `round ${round}: ${l.digest} in the store`).toBe(l.digest.slice(7));
    }
  }, 180_000);
});
