// Two ts-docker processes moving the same image through one store at the same time (two CI jobs
// sharing a cache): both succeed, the store holds the image whole, and each layer crosses the
// wire once: the second process waits for the first's upload session or partial download
// instead of writing into the same one (which interleaved bytes in the partial file).
import { expect, it } from 'vitest';
import { makeRoot } from '../helpers/cli.js';
import type { RecordFilter } from '../helpers/fault-proxy.js';
import { uploadBodies } from '../helpers/fault-proxy.js';
import { describeStored, makeImage, storeProblems } from '../helpers/images.js';
import { checkLayout } from '../helpers/layout.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';

/** Image names go through the counting proxy. */
const env = useRegistryWithProxy();
const LAYERS = [{ sizeMiB: 24, seed: 9101 }, { sizeMiB: 24, seed: 9102 }];

it('two pulls of one image into one store at once: both succeed, the image is whole, each layer is downloaded once', async () => {
  const src = await makeRoot();
  const name = `${env.host}/same-store/pull:1`;
  const img = await makeImage(src, name, LAYERS);
  expect((await tsd(['push', name], { root: src })).code).toBe(0);

  const root = await makeRoot();
  env.proxy.resetStats();
  const [a, b] = await Promise.all([tsd(['pull', name], { root }), tsd(['pull', name], { root })]);
  expect(a.code, show(a)).toBe(0);
  expect(b.code, show(b)).toBe(0);
  expect((await describeStored(root, name)).id).toBe(img.id);
  expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
  expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  for (const layer of img.layers) {
    const gets: RecordFilter = (q) => q.method === 'GET' && q.path.endsWith(`/blobs/${layer.digest}`);
    expect(env.proxy.stats().responseBytes(gets), `bytes of layer ${layer.digest} downloaded`).toBe(layer.size);
  }
});

it('two pushes of one image from one store at once, in small chunks: both succeed, the registry has it whole, each layer is sent once', async () => {
  const root = await makeRoot();
  const name = `${env.host}/same-store/push:1`;
  const img = await makeImage(root, name, LAYERS);
  env.proxy.resetStats();
  const [a, b] = await Promise.all([tsd(['push', '--chunk-size', '1m', name], { root }), tsd(['push', '--chunk-size', '1m', name], { root })]);
  expect(a.code, show(a)).toBe(0);
  expect(b.code, show(b)).toBe(0);
  const info = await skopeoInspect(`docker://${name}`);
  expect(info.Digest).toBe(img.manifestDigest);
  expect(info.Layers).toEqual(img.layers.map((l) => l.digest));
  const layerBytes = img.layers.reduce((n, l) => n + l.size, 0);
  const sent = env.proxy.stats().requestBytes(uploadBodies);
  // The layers once, plus the config (a few hundred bytes) at most twice.
  expect(sent).toBeGreaterThanOrEqual(layerBytes);
  expect(sent).toBeLessThan(layerBytes + 64 * 1024);
});
