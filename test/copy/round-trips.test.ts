// The same image through every pair of `copy` endpoints (issue 13): the store, Debian's
// docker-registry, the built-in registry, an OCI layout, an OCI archive and a docker-archive.
// Each destination is read by skopeo, an independent reader: the manifest digest is what was
// copied (a docker-archive, which skopeo reads through its manifest.json, is compared by its
// config and layers). A two-platform index goes through every endpoint that holds indexes.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRoot, makeSandbox } from '../helpers/cli.js';
import type { MultiPlatformLayout } from '../helpers/images.js';
import { makeMultiPlatformLayout } from '../helpers/images.js';
import type { Registry } from '../helpers/registry.js';
import { startRegistry } from '../helpers/registry.js';
import { show, tsd } from '../helpers/remote-cli.js';
import { skopeoOk } from '../helpers/skopeo.js';

const sha256 = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dist: Registry;
let builtin: Registry;
let multi: MultiPlatformLayout;
let root: string;
let dir: string;

beforeAll(async () => {
  dist = await startRegistry({ backend: 'docker-registry' });
  builtin = await startRegistry({ backend: 'builtin' });
  multi = await makeMultiPlatformLayout();
  root = await makeRoot();
  dir = await makeSandbox();
}, 120_000);

afterAll(async () => {
  await dist?.stop();
  await builtin?.stop();
});

type Kind = 'store' | 'docker-registry' | 'builtin' | 'oci' | 'oci-archive' | 'docker-archive';
const KINDS: Kind[] = ['store', 'docker-registry', 'builtin', 'oci', 'oci-archive', 'docker-archive'];

/** Where endpoint `kind` keeps the image of test `n`: ts-docker's location, and skopeo's. */
function place(kind: Kind, n: string): { ts: string; skopeo: string } {
  switch (kind) {
    case 'store': return { ts: `store:rt/${n}:1`, skopeo: `oci:${root}:docker.io/rt/${n}:1` };
    case 'docker-registry': return { ts: `${dist.host}/rt/${n}:1`, skopeo: `docker://${dist.host}/rt/${n}:1` };
    case 'builtin': return { ts: `${builtin.host}/rt/${n}:1`, skopeo: `docker://${builtin.host}/rt/${n}:1` };
    case 'oci': return { ts: `oci:${join(dir, `${n}-layout`)}:1`, skopeo: `oci:${join(dir, `${n}-layout`)}:1` };
    case 'oci-archive': return { ts: `oci-archive:${join(dir, `${n}.oci.tar`)}:1`, skopeo: `oci-archive:${join(dir, `${n}.oci.tar`)}:1` };
    case 'docker-archive': return { ts: `docker-archive:${join(dir, `${n}.docker.tar`)}:rt/${n}:1`, skopeo: `docker-archive:${join(dir, `${n}.docker.tar`)}` };
  }
}

/** What skopeo reads at a place: the raw manifest's digest, its config digest and layer digests. */
async function seen(ref: string): Promise<{ digest: string; config: string; layers: string[] }> {
  const raw = (await skopeoOk(['inspect', '--raw', ref])).stdout;
  const m = JSON.parse(raw) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
  return { digest: sha256(raw), config: m.config?.digest ?? '', layers: (m.layers ?? []).map((l) => l.digest) };
}

async function copy(args: string[]): Promise<void> {
  const r = await tsd(['copy', ...args], { root });
  expect(r.code, `copy ${args.join(' ')}\n${show(r)}`).toBe(0);
}

describe('one platform through every pair of endpoints', () => {
  const pairs = KINDS.flatMap((a) => KINDS.filter((b) => b !== a).map((b) => [a, b] as const));
  it.each(pairs)('%s -> %s: skopeo reads the same image at the destination', async (from, to) => {
    const n = `${from}-to-${to}`;
    const src = place(from, `${n}-src`);
    const dst = place(to, `${n}-dst`);
    // The linux/amd64 image of the index, seeded at the source by a copy from the test's OCI layout.
    await copy(['--platform', 'linux/amd64', multi.ociRef, src.ts]);
    // Copied into the store, the index stays the image with one platform present (the store's
    // multi-platform rule): out of it, that platform is named (the whole index is not there).
    await copy([...(from === 'store' ? ['--platform', 'linux/amd64'] : []), src.ts, dst.ts]);
    const want = multi.amd64;
    const got = await seen(dst.skopeo);
    expect(got.config).toBe(want.config.digest);
    if (to === 'docker-archive') {
      // skopeo reads a docker-archive through manifest.json and makes up a manifest whose layers
      // are the config's diff_ids (it decompresses the layer files): compared with those.
      const config = JSON.parse(await readFile(join(multi.layout, 'blobs', 'sha256', want.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
      expect(got.layers).toEqual(config.rootfs.diff_ids);
    } else {
      // Everywhere else the manifest's bytes are kept.
      expect(got.layers).toEqual(want.layers.map((l) => l.digest));
      expect(got.digest).toBe(want.manifest.digest);
    }
  });
});

describe('a two-platform index through every endpoint that keeps indexes', () => {
  const holders: Kind[] = ['docker-registry', 'builtin', 'oci', 'oci-archive'];
  const pairs = holders.flatMap((a) => holders.filter((b) => b !== a).map((b) => [a, b] as const));
  it.each(pairs)('%s -> %s: the index digest and both platforms arrive', async (from, to) => {
    const n = `multi-${from}-to-${to}`;
    const src = place(from, `${n}-src`);
    const dst = place(to, `${n}-dst`);
    await copy([multi.ociRef, src.ts]);
    await copy([src.ts, dst.ts]);
    const raw = (await skopeoOk(['inspect', '--raw', dst.skopeo])).stdout;
    expect(sha256(raw)).toBe(multi.indexDigest);
    expect((JSON.parse(raw) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest)).toEqual([multi.amd64.manifest.digest, multi.arm64.manifest.digest]);
    // skopeo copies every platform out again (it fails on any missing or wrong blob), digests kept.
    const out = join(await makeSandbox(), 'check');
    await skopeoOk(['copy', '--all', '--preserve-digests', dst.skopeo, `oci:${out}:x`]);
    expect(sha256((await skopeoOk(['inspect', '--raw', `oci:${out}:x`])).stdout)).toBe(multi.indexDigest);
  });
});

describe('a docker-archive without index.json (skopeo\'s, older docker\'s)', () => {
  it('load and copy into the store make the same image of it, and skopeo reads it from the store', async () => {
    const file = join(dir, 'legacy.tar');
    await skopeoOk(['copy', '--override-arch', 'amd64', multi.ociRef, `docker-archive:${file}:legacy/img:1`]);
    const loaded = await makeRoot();
    const l = await tsd(['load', '-i', file], { root: loaded });
    expect(l.code, show(l)).toBe(0);
    const copied = await makeRoot();
    const c = await tsd(['copy', `docker-archive:${file}`, 'store:legacy/img:1'], { root: copied });
    expect(c.code, show(c)).toBe(0);
    const viaLoad = await seen(`oci:${loaded}:docker.io/legacy/img:1`);
    const viaCopy = await seen(`oci:${copied}:docker.io/legacy/img:1`);
    expect(viaCopy).toEqual(viaLoad);
    expect(viaLoad.config).toBe(multi.amd64.config.digest);
  });
});
