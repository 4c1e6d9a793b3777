// skopeo and oci-image-tool as independent peers: they read our store and our archives; we load theirs.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../helpers/cli.js';
import {
  FIXTURE_REF,
  expectExit,
  importDir,
  lines,
  loadFixture,
  makeRoot,
  makeSandbox,
  manifestDigestFromStore,
  namesInStore,
  requireTool,
  runCli,
  runOk,
  sh,
  skopeo,
} from '../helpers/cli.js';
import { checkLayout, layersOf } from '../helpers/layout.js';
import { umociImage } from '../helpers/peer.js';

function ok(r: RunResult, what: string): RunResult {
  expect(r.code, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

async function skopeoInspect(ref: string, ...flags: string[]): Promise<Record<string, unknown>> {
  return JSON.parse(ok(await skopeo(['inspect', ...flags, ref]), `skopeo inspect ${flags.join(' ')} ${ref}`).stdout) as Record<string, unknown>;
}

/** The image ID ts-docker reports for `ref` (via its own `inspect`). */
async function cliId(root: string, ref: string): Promise<string> {
  const r = await runCli(['inspect', ref], { root });
  expectExit(r, 0);
  return (JSON.parse(r.stdout) as Array<{ Id: string }>)[0]!.Id;
}

beforeAll(async () => {
  await requireTool('skopeo');
  await requireTool('oci-image-tool');
});

describe('skopeo reads the store (oci:ROOT:REF)', () => {
  it('after load, skopeo inspect sees the same manifest, config digest and layers', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const ref = `oci:${root}:${FIXTURE_REF}`;
    const id = await cliId(root, 'apa000ex22');
    const info = await skopeoInspect(ref);
    expect(info['Digest']).toBe(await manifestDigestFromStore(root, FIXTURE_REF));
    expect(info['Layers']).toEqual((await layersOf(root, FIXTURE_REF)).map((l) => l.digest));
    const raw = await skopeo(['inspect', '--raw', ref]);
    ok(raw, 'skopeo inspect --raw');
    const manifest = JSON.parse(raw.stdout) as { config: { digest: string } };
    expect(manifest.config.digest).toBe(id);
    const config = await skopeo(['inspect', '--config', '--raw', ref]);
    ok(config, 'skopeo inspect --config --raw');
    expect(`sha256:${createHash('sha256').update(config.stdoutBuffer).digest('hex')}`).toBe(id);
  });

  it('a tag is another ref to the same manifest, and skopeo can copy the image out whole', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const a = await skopeoInspect(`oci:${root}:${FIXTURE_REF}`);
    const z = await skopeoInspect(`oci:${root}:zoozoo.coomm/nyapacchi:13`);
    expect(z['Digest']).toBe(a['Digest']);
    const out = join(await makeSandbox(), 'copy');
    ok(await skopeo(['copy', `oci:${root}:zoozoo.coomm/nyapacchi:13`, `oci:${out}:copied`]), 'skopeo copy out of the store');
  });
});

describe('oci-image-tool validates the store', () => {
  it('with several refs and images: Validation succeeded', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    await importDir(root, 'second image', 'second:1');
    // `--type imageLayout` is not implemented by this tool; `--type image` on a layout
    // directory autodetects the layout and, without --ref, validates every ref.
    const r = await sh('oci-image-tool', ['validate', '--type', 'image', root]);
    const text = `${r.stdout}${r.stderr}`;
    expect(r.code, text).toBe(0);
    expect(text).toContain('Validation succeeded');
    // (Not per `--ref name=...`: oci-image-tool 1.0.0-rc's name filter deletes from the slice it
    // iterates, skips the entry after each removal, and reports "not unique" on valid layouts
    // with three or more refs.)
    expect((await namesInStore(root)).length).toBe(3);
  });

  it('after rmi and prune the layout still validates', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await importDir(root, 'replacement', 'apa000ex22:latest');
    await importDir(root, 'kept', 'kept:1');
    await runOk(['image', 'prune', '-f'], { root });
    await runOk(['rmi', 'kept:1'], { root });
    const r = await sh('oci-image-tool', ['validate', '--type', 'image', root]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('Validation succeeded');
  });
});

describe('skopeo reads our archives', () => {
  it('save -o s.tar is read by skopeo docker-archive: with the same config and layers', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const id = await cliId(root, 'apa000ex22');
    const dir = await makeSandbox();
    const tar = join(dir, 's.tar');
    await runOk(['save', '-o', tar, 'apa000ex22'], { root });
    const info = await skopeoInspect(`docker-archive:${tar}`);
    expect((info['Layers'] as unknown[]).length).toBe((await layersOf(root, FIXTURE_REF)).length);
    const raw = JSON.parse(ok(await skopeo(['inspect', '--raw', `docker-archive:${tar}`]), 'inspect --raw').stdout) as { config: { digest: string } };
    expect(raw.config.digest).toBe(id);
    // A full copy makes skopeo read and verify every blob.
    ok(await skopeo(['copy', `docker-archive:${tar}`, `oci:${join(dir, 'out')}:copied`]), 'skopeo copy docker-archive -> oci');
    const copied = await skopeoInspect(`oci:${join(dir, 'out')}:copied`, '--config');
    expect(copied).toHaveProperty('rootfs');
  });
});

describe('we load what skopeo writes', () => {
  it('docker-archive made by skopeo from our store: Loaded image: made/by-skopeo:1, same IMAGE ID', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const id = await cliId(root, 'apa000ex22');
    const tar = join(await makeSandbox(), 'x.tar');
    ok(await skopeo(['copy', `oci:${root}:${FIXTURE_REF}`, `docker-archive:${tar}:made/by-skopeo:1`]), 'skopeo copy -> docker-archive');
    const fresh = await makeRoot();
    const r = await runCli(['load', '-i', tar], { root: fresh });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: made/by-skopeo:1\n');
    expect(await cliId(fresh, 'made/by-skopeo:1')).toBe(id);
    expect(lines((await runOk(['images', '-q'], { root: fresh })).stdout)).toEqual([id.slice(7, 19)]);
    expect(await checkLayout(fresh)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('oci-archive made by skopeo from our store: Loaded image: made/by-skopeo:2, same IMAGE ID', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const id = await cliId(root, 'apa000ex22');
    const tar = join(await makeSandbox(), 'y.tar');
    ok(await skopeo(['copy', `oci:${root}:${FIXTURE_REF}`, `oci-archive:${tar}:made/by-skopeo:2`]), 'skopeo copy -> oci-archive');
    const fresh = await makeRoot();
    const r = await runCli(['load', '-i', tar], { root: fresh });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: made/by-skopeo:2\n');
    expect(await cliId(fresh, 'made/by-skopeo:2')).toBe(id);
    expect(await checkLayout(fresh)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('an image made by umoci, archived by skopeo, loads with the config digest skopeo reports', async () => {
    const dir = await makeSandbox();
    const src = await umociImage(dir);
    const raw = JSON.parse(ok(await skopeo(['inspect', '--raw', src]), 'inspect umoci image').stdout) as { config: { digest: string } };
    const tar = join(dir, 'umoci.tar');
    ok(await skopeo(['copy', src, `docker-archive:${tar}:peer/umoci:latest`]), 'skopeo copy umoci -> docker-archive');
    const root = await makeRoot();
    const r = await runCli(['load', '-i', tar], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: peer/umoci:latest\n');
    expect(await cliId(root, 'peer/umoci')).toBe(raw.config.digest);
    const rows = lines((await runOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root })).stdout);
    expect(rows).toEqual([`peer/umoci:latest ${raw.config.digest.slice(7, 19)}`]);
    // And it goes back out again: our save, read by skopeo.
    const back = join(dir, 'back.tar');
    await runOk(['save', '-o', back, 'peer/umoci'], { root });
    const again = JSON.parse(ok(await skopeo(['inspect', '--raw', `docker-archive:${back}`]), 'inspect our save').stdout) as { config: { digest: string } };
    expect(again.config.digest).toBe(raw.config.digest);
  });
});
