// Chunks that grow: by default a push starts with 16 MiB PATCHes and lets them grow (up to
// 64 MiB, and an eighth of the layer) while each takes under two seconds; a proxy refusing a grown chunk (413) sends the
// push back to 16 MiB, and it still succeeds. On loopback a 16 MiB chunk takes a fraction of a
// second (the registry ingests hundreds of MB/s here), so the first chunk always earns growth.
import { describe, expect, it } from 'vitest';
import { makeRoot } from '../helpers/cli.js';
import type { LayerDesc } from '../helpers/images.js';
import { makeImage } from '../helpers/images.js';
import type { AccessEntry, Nginx } from '../helpers/nginx.js';
import { startNginx } from '../helpers/nginx.js';
import { useRegistry } from '../helpers/registry-suite.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect } from '../helpers/skopeo.js';

const MiB = 1024 * 1024;

/** Image names go through nginx (`env.front`), which refuses bodies over 18 MiB. */
const env = useRegistry<Nginx>({ tools: ['skopeo'], front: (reg) => startNginx(reg.host, { maxBodySize: '18m' }) });

/** The PATCHes of the upload session that ended with `PUT ...?digest=<layer>`, in order. */
function patchesOf(log: AccessEntry[], layer: LayerDesc): AccessEntry[] {
  const put = log.find((e) => e.method === 'PUT' && e.uri.includes('/blobs/uploads/') && e.args.includes(layer.digest.slice(7)) && e.status === 201);
  expect(put, 'the upload was closed with PUT ?digest=').toBeDefined();
  return log.filter((e) => e.method === 'PATCH' && e.uri === put!.uri);
}

describe('chunk size by default', () => {
  it('starts at 16 MiB and grows, never over an eighth of the layer (20 MiB of 160) nor 64 MiB', async () => {
    const open = await startNginx(env.reg.host, { maxBodySize: '1g' });
    try {
      const root = await makeRoot();
      const name = `${open.host}/grow:1`;
      const img = await makeImage(root, name, [{ sizeMiB: 160, seed: 7001 }]);
      const layer = img.layers[0]!;
      const r = await tsd(['push', name], { root });
      expect(r.code, show(r)).toBe(0);
      const sizes = patchesOf(await open.settledAccessLog(), layer).map((p) => { expect(p.status).toBe(202); return p.contentLength!; });
      expect(sizes[0]).toBe(16 * MiB);
      expect(Math.max(...sizes)).toBeGreaterThan(16 * MiB);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(20 * MiB);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(layer.size);
      expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(img.manifestDigest);
    } finally {
      await open.stop();
    }
  });

  it('a grown chunk refused with 413 by a proxy: back to 16 MiB, and the push succeeds', async () => {
    const root = await makeRoot();
    const name = `${env.host}/shrink:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 160, seed: 7002 }]);
    const layer = img.layers[0]!;
    const r = await tsd(['push', name], { root });
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toBe('');
    const patches = patchesOf(await env.front.settledAccessLog(), layer);
    const refused = patches.findIndex((p) => p.status === 413);
    expect(refused, 'a grown chunk over 18 MiB was refused').toBeGreaterThan(0);
    expect(patches[refused]!.contentLength!).toBeGreaterThan(18 * MiB);
    const accepted = patches.filter((p) => p.status === 202);
    expect(accepted.every((p) => p.contentLength! <= 18 * MiB)).toBe(true);
    // After the refusal every chunk is 16 MiB (the last one what is left), and nothing else is refused.
    expect(patches.slice(refused + 1).every((p) => p.status === 202 && p.contentLength! <= 16 * MiB)).toBe(true);
    expect(accepted.reduce((a, p) => a + p.contentLength!, 0)).toBe(layer.size);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(img.manifestDigest);
  });
});
