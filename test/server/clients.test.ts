// ts-docker's own push/pull and skopeo (single image and a two-platform index) against
// `ts-docker registry serve`: what one client pushes, the other pulls, digests intact.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_REF, idFromStore, loadFixture, makeRoot, makeSandbox, manifestDigestFromStore, requireTool } from '../helpers/cli.js';
import { makeImage, makeMultiPlatformLayout } from '../helpers/images.js';
import { checkLayout, layersOf } from '../helpers/layout.js';
import { parsePull, parsePush, show, tsd } from '../helpers/remote-cli.js';
import { skopeoInspect, skopeoOk, skopeoRawManifest } from '../helpers/skopeo.js';
import { digest } from './http.js';
import { startTsRegistry, type TsRegistry } from '../helpers/ts-registry.js';

let reg: TsRegistry;
beforeAll(async () => {
  await requireTool('skopeo');
  reg = await startTsRegistry();
});
afterAll(async () => reg.stop());

describe('ts-docker push/pull against the built-in registry', () => {
  it('the seed: tag apa000ex22 HOST/nyapacchi:13, push, rmi, pull back the same image', async () => {
    const root = await makeRoot();
    const id = await loadFixture(root);
    const name = `${reg.host}/nyapacchi:13`;
    expect((await tsd(['tag', 'apa000ex22', name], { root })).code).toBe(0);
    const p = await tsd(['push', name], { root });
    expect(p.code, show(p)).toBe(0);
    const layers = await layersOf(root, FIXTURE_REF);
    expect(Object.values(parsePush(p.stdout).layers)).toEqual(layers.map(() => 'Pushed'));
    const manifestDigest = await manifestDigestFromStore(root, FIXTURE_REF);
    expect(parsePush(p.stdout).digests[0]!.digest).toBe(manifestDigest);

    // Pushing again: every layer exists.
    const again = await tsd(['push', name], { root });
    expect(Object.values(parsePush(again.stdout).layers)).toEqual(layers.map(() => 'Layer already exists'));

    const other = await makeRoot();
    const pull = await tsd(['pull', name], { root: other });
    expect(pull.code, show(pull)).toBe(0);
    expect(parsePull(pull.stdout).digests).toEqual([manifestDigest]);
    expect(await idFromStore(other, name)).toBe(id);
    expect(await checkLayout(other)).toMatchObject({ missing: [], corrupt: [] });
  });

  it('a multi-layer image pushed in small chunks (--chunk-size) comes back intact; the other repository mounts', async () => {
    const root = await makeRoot();
    const name = `${reg.host}/team/layered:1`;
    const img = await makeImage(root, name, [{ sizeMiB: 1, seed: 901 }, { sizeMiB: 0.5, seed: 902 }]);
    const p = await tsd(['push', '--chunk-size', '256k', name], { root });
    expect(p.code, show(p)).toBe(0);
    expect(reg.log()).toMatch(/"PATCH \/v2\/team\/layered\/blobs\/uploads\/[0-9a-f-]+ HTTP\/1\.1" 202/);
    const other = await makeRoot();
    const pull = await tsd(['pull', name], { root: other });
    expect(pull.code, show(pull)).toBe(0);
    expect(await manifestDigestFromStore(other, name)).toBe(img.manifestDigest);
    expect(await checkLayout(other)).toMatchObject({ missing: [], corrupt: [] });
    // Same image under another repository: blobs mount from team/layered.
    const second = `${reg.host}/team/copy:1`;
    expect((await tsd(['tag', name, second], { root })).code).toBe(0);
    const p2 = await tsd(['push', second], { root });
    expect(p2.code, show(p2)).toBe(0);
    expect(Object.values(parsePush(p2.stdout).layers).every((s) => s === 'Mounted from team/layered')).toBe(true);
  });
});

describe('skopeo against the built-in registry', () => {
  it('skopeo pulls what ts-docker pushed, and pushes it back under another name', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const name = `${reg.host}/skopeo/src:1`;
    expect((await tsd(['tag', 'apa000ex22', name], { root })).code).toBe(0);
    expect((await tsd(['push', name], { root })).code).toBe(0);
    const manifestDigest = await manifestDigestFromStore(root, FIXTURE_REF);
    expect((await skopeoInspect(`docker://${name}`)).Digest).toBe(manifestDigest);
    const dir = await makeSandbox();
    await skopeoOk(['copy', `docker://${name}`, `oci:${dir}/layout:x`]);
    const idx = JSON.parse(await readFile(join(dir, 'layout', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(idx.manifests[0]!.digest).toBe(manifestDigest);
    await skopeoOk(['copy', `oci:${dir}/layout:x`, `docker://${reg.host}/skopeo/dst:2`]);
    expect(digest(await skopeoRawManifest(`docker://${reg.host}/skopeo/dst:2`))).toBe(manifestDigest);
    const other = await makeRoot();
    const pull = await tsd(['pull', `${reg.host}/skopeo/dst:2`], { root: other });
    expect(pull.code, show(pull)).toBe(0);
    expect(await manifestDigestFromStore(other, `${reg.host}/skopeo/dst:2`)).toBe(manifestDigest);
  });

  it('skopeo copy --all of a two-platform index, and back', async () => {
    const multi = await makeMultiPlatformLayout();
    const ref = `docker://${reg.host}/skopeo/multi:all`;
    await skopeoOk(['copy', '--all', multi.ociRef, ref]);
    const raw = await skopeoRawManifest(ref);
    expect(digest(raw)).toBe(multi.indexDigest);
    expect((await skopeoInspect(ref, '--override-arch', 'arm64')).Architecture).toBe('arm64');
    const dir = await makeSandbox();
    await skopeoOk(['copy', '--all', ref, `oci:${dir}/back:multi`]);
    const idx = JSON.parse(await readFile(join(dir, 'back', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    expect(idx.manifests[0]!.digest).toBe(multi.indexDigest);
    const root = await makeRoot();
    const pull = await tsd(['pull', '--platform', 'linux/arm64', `${reg.host}/skopeo/multi:all`], { root });
    expect(pull.code, show(pull)).toBe(0);
  });
});
