// Chunked uploads through nginx with client_max_body_size 1m: ts-docker gets a 5 MiB layer
// through in 512 KiB PATCHes; too big a chunk fails with a one-line 413 hint; skopeo, which
// sends each layer as one PATCH, cannot push the same layer at all.
import { describe, expect, it } from 'vitest';
import { expectOneLineError, makeRoot } from '../helpers/cli.js';
import type { LayerDesc } from '../helpers/images.js';
import { makeImage } from '../helpers/images.js';
import type { AccessEntry, Nginx } from '../helpers/nginx.js';
import { startNginx } from '../helpers/nginx.js';
import { useRegistry } from '../helpers/registry-suite.js';
import { id12, parsePush, show, tsd } from '../helpers/remote-cli.js';
import { skopeo, skopeoInspect } from '../helpers/skopeo.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Image names go through nginx (`env.front`). */
const env = useRegistry<Nginx>({ tools: ['skopeo'], front: (reg) => startNginx(reg.host, { maxBodySize: '1m' }) });

/** The requests of the upload session that ended with `PUT ...?digest=<layer>`: its PATCHes in order, and that PUT. */
function uploadOf(log: AccessEntry[], layer: LayerDesc): { patches: AccessEntry[]; put: AccessEntry | undefined } {
  const hex = layer.digest.slice(7);
  const put = log.find((e) => e.method === 'PUT' && e.uri.includes('/blobs/uploads/') && e.args.includes(hex) && e.status === 201);
  return { patches: put ? log.filter((e) => e.method === 'PATCH' && e.uri === put.uri) : [], put };
}

describe('chunked push through nginx (client_max_body_size 1m)', () => {
  it('--chunk-size 512k pushes a 5 MiB layer in several PATCHes, each under 1 MiB, summing to the layer', async () => {
    const root = await makeRoot();
    const name = `${env.host}/chunky:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 5, seed: 5005 }]);
    const layer = img.layers[0]!;
    expect(layer.size).toBeGreaterThan(5 * MiB);
    const r = await tsd(['push', '--chunk-size', '512k', name], { root });
    expect(r.code, show(r)).toBe(0);
    const out = parsePush(r.stdout);
    expect(out.layers).toEqual({ [id12(layer.digest)]: 'Pushed' });
    expect(out.digests).toEqual([{ tag: '1', digest: img.manifestDigest, size: expect.any(Number) as number }]);

    const log = await env.front.settledAccessLog();
    expect(log.filter((e) => e.status === 413), 'no request was refused').toEqual([]);
    const { patches, put } = uploadOf(log, layer);
    expect(put, JSON.stringify(log, null, 1)).toBeDefined();
    expect(patches.length).toBeGreaterThanOrEqual(Math.ceil(layer.size / (512 * KiB)));
    for (const p of patches) {
      expect(p.status).toBe(202);
      expect(p.contentLength).toBeDefined();
      expect(p.contentLength!).toBeLessThanOrEqual(512 * KiB);
      expect(p.contentLength!).toBeLessThan(MiB);
    }
    expect(patches.reduce((s, p) => s + p.contentLength!, 0)).toBe(layer.size);
    // Content-Range, where sent, is contiguous from 0.
    let next = 0;
    for (const p of patches) {
      if (p.contentRange === undefined) continue;
      const m = /^(?:bytes )?(\d+)-(\d+)/.exec(p.contentRange);
      expect(m, p.contentRange).not.toBeNull();
      expect(Number(m![1])).toBe(next);
      expect(Number(m![2]) - Number(m![1]) + 1).toBe(p.contentLength);
      next = Number(m![2]) + 1;
    }

    const info = await skopeoInspect(`docker://${name}`);
    expect(info.Digest).toBe(img.manifestDigest);
    expect(info.Layers).toEqual([layer.digest]);
  });

  it('--chunk-size 1m (exactly the limit) goes through', async () => {
    const root = await makeRoot();
    const name = `${env.host}/chunky-1m:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 3, seed: 5006 }]);
    const r = await tsd(['push', '--chunk-size', '1m', name], { root });
    expect(r.code, show(r)).toBe(0);
    const { patches } = uploadOf(await env.front.settledAccessLog(), img.layers[0]!);
    // Chunks of exactly client_max_body_size (1,048,576 bytes) are what this case is about.
    expect(patches.length).toBe(Math.ceil(img.layers[0]!.size / MiB));
    expect(Math.max(...patches.map((p) => p.contentLength ?? Infinity))).toBe(MiB);
    expect(patches.reduce((s, p) => s + (p.contentLength ?? 0), 0)).toBe(img.layers[0]!.size);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(img.manifestDigest);
  });

  it('--chunk-size 2m fails with one line naming 413 and --chunk-size', async () => {
    const root = await makeRoot();
    const name = `${env.host}/toobig:1`;
    await makeImage(root, name, [{ sizeMiB: 5, seed: 5007 }]);
    const r = await tsd(['push', '--chunk-size', '2m', name], { root });
    expectOneLineError(r, '413');
    expect(r.stderr).toContain('--chunk-size');
    const log = await env.front.settledAccessLog();
    expect(log.some((e) => e.method === 'PATCH' && e.status === 413 && e.uri.startsWith('/v2/toobig/'))).toBe(true);
  });

  it('skopeo cannot push the same 5 MiB layer through this nginx (one PATCH per layer), ts-docker can', async () => {
    const root = await makeRoot();
    const name = `${env.host}/bypeer:1`;
    // Same seed as the first case: the same layer bytes (not linked in this repository, so both must upload it).
    const img = await makeImage(root, name, [{ sizeMiB: 5, seed: 5005 }]);
    const s = await skopeo(['copy', `oci:${root}:${img.fullName}`, `docker://${env.host}/bypeer:1`]);
    expect(s.code, `skopeo must fail\n${s.stdout}\n${s.stderr}`).not.toBe(0);
    expect(s.stderr).toMatch(/413|Request Entity Too Large/);
    const refused = (await env.front.settledAccessLog()).filter((e) => e.method === 'PATCH' && e.uri.startsWith('/v2/bypeer/') && e.status === 413);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((e) => e.contentLength === undefined || e.contentLength > MiB)).toBe(true);

    const r = await tsd(['push', '--chunk-size', '512k', name], { root });
    expect(r.code, show(r)).toBe(0);
    expect((await skopeoInspect(`docker://${name}`)).Layers).toEqual([img.layers[0]!.digest]);
  });
});
