// `save --platform` and `load --platform` (docker 28+): one platform of a multi-platform image out
// of the store into a docker-archive (skopeo reads it as that platform's image), and into the
// store out of an archive holding both (the name points at the index, only that platform's
// blobs are stored). A platform that is not there: one line, exit 1, the store unchanged.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectExit, expectOneLineError, listBlobs, makeRoot, makeSandbox, runCli, snapshotTree } from '../helpers/cli.js';
import type { MultiPlatformLayout } from '../helpers/images.js';
import { makeMultiPlatformLayout } from '../helpers/images.js';
import { skopeoInspect } from '../helpers/skopeo.js';

let multi: MultiPlatformLayout;
let archive: string;

beforeAll(async () => {
  multi = await makeMultiPlatformLayout();
  archive = join(await makeSandbox(), 'both.tar');
  // A docker-archive holding the whole index (both platforms), written by the copy pipeline.
  expectExit(await runCli(['copy', multi.ociRef, `docker-archive:${archive}:multi:1`], { root: await makeRoot() }), 0);
});

const hex = (d: string): string => d.slice('sha256:'.length);

describe('load --platform', () => {
  it('keeps the index under the name with only the asked platform\'s blobs; inspect shows that platform', async () => {
    const root = await makeRoot();
    const r = await runCli(['load', '--platform', 'linux/arm64', '-i', archive], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: multi:1\n');
    const blobs = await listBlobs(root);
    expect(blobs).toContain(hex(multi.indexDigest));
    expect(blobs).toContain(hex(multi.arm64.layers[0]!.digest));
    expect(blobs).not.toContain(hex(multi.amd64.layers[0]!.digest));
    expect(blobs).not.toContain(hex(multi.amd64.manifest.digest));
    const ins = await runCli(['inspect', '--format', '{{.Architecture}}', 'multi:1'], { root });
    expect(ins.stdout).toBe('arm64\n');
  });

  it('a platform the archive does not have: one line naming it, exit 1, the store unchanged', async () => {
    const root = await makeRoot();
    expectExit(await runCli(['load', '-i', archive, '--platform', 'linux/arm64'], { root }), 0);
    const before = await snapshotTree(root);
    const r = await runCli(['load', '--platform', 'linux/s390x', '-i', archive], { root });
    expectOneLineError(r, 'image multi:1 has no linux/s390x platform in the archive');
    expect(await snapshotTree(root)).toEqual(before);
  });
});

describe('save --platform', () => {
  it('writes that platform\'s manifest as the image: skopeo reads one arm64 image', async () => {
    const root = await makeRoot();
    expectExit(await runCli(['load', '-i', archive], { root }), 0);
    const out = join(await makeSandbox(), 'arm.tar');
    expectExit(await runCli(['save', '--platform', 'linux/arm64', '-o', out, 'multi:1'], { root }), 0);
    const seen = await skopeoInspect(`docker-archive:${out}`);
    expect(seen.Architecture).toBe('arm64');
    // And back: the archive loads as that one platform's image, under its name.
    const other = await makeRoot();
    const loaded = await runCli(['load', '-i', out], { root: other });
    expectExit(loaded, 0);
    expect(loaded.stdout).toBe('Loaded image: multi:1\n');
    expect((await runCli(['inspect', '--format', '{{.Architecture}} {{.Id}}', 'multi:1'], { root: other })).stdout).toBe(`arm64 ${multi.arm64.config.digest}\n`);
  });

  it('a platform the image does not have: one line, exit 1, no file written', async () => {
    const root = await makeRoot();
    expectExit(await runCli(['load', '-i', archive], { root }), 0);
    const out = join(await makeSandbox(), 'none.tar');
    const r = await runCli(['save', '--platform', 'linux/s390x', '-o', out, 'multi:1'], { root });
    expectOneLineError(r, 'no matching manifest for linux/s390x in the manifest list entries');
    expect((await runCli(['save', '--platform', 'linux/arm64,linux/amd64', '-o', out, 'multi:1'], { root })).code).toBe(1);
  });
});
