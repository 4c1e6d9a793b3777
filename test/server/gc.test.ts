// `ts-docker registry gc`: blobs no manifest reaches go, every image still pulls.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRoot, makeSandbox, manifestDigestFromStore } from '../helpers/cli.js';
import { makeImage } from '../helpers/images.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { call, digest } from './http.js';
import { startTsRegistry } from '../helpers/ts-registry.js';

describe('registry gc', () => {
  it('removes an orphan blob and a deleted manifest\'s blobs, keeps what tagged images need', async () => {
    const dir = join(await makeSandbox(), 'registry');
    const reg = await startTsRegistry({ root: dir });
    const root = await makeRoot();
    const keep = `${reg.host}/gc/keep:1`;
    const img = await makeImage(root, keep, [{ sizeMiB: 0.25, seed: 801 }]);
    expect((await tsd(['push', keep], { root })).code).toBe(0);
    const gone = `${reg.host}/gc/gone:1`;
    const other = await makeImage(root, gone, [{ sizeMiB: 0.25, seed: 802 }]);
    expect((await tsd(['push', gone], { root })).code).toBe(0);
    expect((await call(reg.url, 'DELETE', `/v2/gc/gone/manifests/${other.manifestDigest}`)).status).toBe(202);
    expect((await call(reg.url, 'POST', `/v2/gc/keep/blobs/uploads/?digest=${digest('orphan')}`, { body: 'orphan' })).status).toBe(201);
    await reg.stop();

    const dry = await tsd(['registry', 'gc', '--dry-run', '--root', dir]);
    expect(dry.code, show(dry)).toBe(0);
    expect(dry.stdout).toContain(`would delete blob ${digest('orphan')}`);
    const before = (await readdir(join(dir, 'blobs', 'sha256'))).length;
    const r = await tsd(['registry', 'gc', '--root', dir]);
    expect(r.code, show(r)).toBe(0);
    const removed = before - (await readdir(join(dir, 'blobs', 'sha256'))).length;
    // orphan + the deleted image's manifest, config and layer.
    expect(removed).toBe(4);
    expect(r.stdout).toContain(`deleted blob ${other.layers[0]!.digest}`);

    const again = await startTsRegistry({ root: dir });
    try {
      const fresh = await makeRoot();
      const p = await tsd(['pull', keep.replace(reg.host, again.host)], { root: fresh });
      expect(p.code, show(p)).toBe(0);
      expect(await manifestDigestFromStore(fresh, keep.replace(reg.host, again.host))).toBe(img.manifestDigest);
    } finally {
      await again.stop();
    }
  });
});
