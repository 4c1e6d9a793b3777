// A two-platform OCI index pushed by skopeo (--all): pull picks this machine's platform,
// --platform picks another, an absent platform fails with docker's message. The name points at
// the index, with only the platform pulled present: its IMAGE ID is the index digest (docker 29's
// containerd store); checkLayout, which walks every index child, misses only the other platform's
// manifest (multi-platform-store.test.ts has the rest).
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, listBlobs, makeRoot, namesInStore } from '../helpers/cli.js';
import type { MultiPlatformLayout } from '../helpers/images.js';
import { hostArch, makeMultiPlatformLayout } from '../helpers/images.js';
import { checkLayout } from '../helpers/layout.js';
import { useRegistry } from '../helpers/registry-suite.js';
import { id12, parsePull, show, tsd } from '../helpers/remote-cli.js';
import { skopeoOk } from '../helpers/skopeo.js';

const env = useRegistry({ tools: ['skopeo'] });
let multi: MultiPlatformLayout;
let NAME: string;

beforeAll(async () => {
  multi = await makeMultiPlatformLayout();
  NAME = `${env.host}/multi:1`;
  await skopeoOk(['copy', '--all', multi.ociRef, `docker://${NAME}`]);
});

/** `ts-docker inspect NAME` -> Architecture/Os. */
async function inspectArch(root: string, name: string): Promise<{ Architecture: string; Os: string; Id: string }> {
  const r = await tsd(['inspect', name], { root });
  expect(r.code, show(r)).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ Architecture: string; Os: string; Id: string }>)[0]!;
}

describe('pull of a multi-platform index', () => {
  it('the index in the registry is the one skopeo was given', async () => {
    const raw = JSON.parse((await skopeoOk(['inspect', '--raw', `docker://${NAME}`])).stdout) as { manifests: Array<{ digest: string }> };
    expect(raw.manifests.map((m) => m.digest)).toEqual([multi.amd64.manifest.digest, multi.arm64.manifest.digest]);
  });

  it('without --platform picks this machine (linux/amd64 here)', async () => {
    const arch = hostArch();
    if (arch !== 'amd64' && arch !== 'arm64') throw new Error(`this suite needs an amd64 or arm64 machine, not ${arch}`);
    const [mine, theirs] = arch === 'amd64' ? [multi.amd64, multi.arm64] : [multi.arm64, multi.amd64];
    const root = await makeRoot();
    const p = await tsd(['pull', NAME], { root });
    expect(p.code, show(p)).toBe(0);
    const out = parsePull(p.stdout);
    expect(out.layers).toEqual({ [id12(mine.layers[0]!.digest)]: 'Pull complete' });
    expect(out.digests).toEqual([multi.indexDigest]);
    expect(out.last).toBe(NAME);
    const info = await inspectArch(root, NAME);
    expect(info).toMatchObject({ Architecture: arch, Os: 'linux', Id: multi.indexDigest });
    const blobs = await listBlobs(root);
    expect(blobs).toContain(mine.layers[0]!.digest.slice(7));
    expect(blobs).not.toContain(theirs.layers[0]!.digest.slice(7));
    expect(await checkLayout(root)).toMatchObject({ missing: [], absent: [theirs.manifest.digest], corrupt: [], unreferenced: [] });
  });

  it('--platform linux/arm64 picks the arm64 image', async () => {
    const root = await makeRoot();
    const p = await tsd(['pull', '--platform', 'linux/arm64', NAME], { root });
    expect(p.code, show(p)).toBe(0);
    expect(parsePull(p.stdout).layers).toEqual({ [id12(multi.arm64.layers[0]!.digest)]: 'Pull complete' });
    const info = await inspectArch(root, NAME);
    expect(info).toMatchObject({ Architecture: 'arm64', Os: 'linux', Id: multi.indexDigest });
    const blobs = await listBlobs(root);
    expect(blobs).toContain(multi.arm64.layers[0]!.digest.slice(7));
    expect(blobs).not.toContain(multi.amd64.layers[0]!.digest.slice(7));
    expect(await checkLayout(root)).toMatchObject({ missing: [], absent: [multi.amd64.manifest.digest], corrupt: [], unreferenced: [] });
  });

  it('--platform linux/s390x fails with docker\'s message and leaves no name', async () => {
    const root = await makeRoot();
    const p = await tsd(['pull', '--platform', 'linux/s390x', NAME], { root });
    expectOneLineError(p, 'no matching manifest for linux/s390x in the manifest list entries');
    expect(await namesInStore(root).catch(() => [])).toEqual([]);
  });
});
