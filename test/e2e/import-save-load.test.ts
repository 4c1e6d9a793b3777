// `import` (dir, tar, tar.gz, stdin), `save` (-o and stdout) and `load` (-i and stdin) round trips.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootfsTar } from '../helpers/archive.js';
import {
  FIXTURE_REF,
  FULL_ID,
  expectExit,
  idFromStore,
  lines,
  loadFixture,
  makeRoot,
  makeRootfsDir,
  makeSandbox,
  namesInStore,
  parseTable,
  requireFixture,
  runCli,
  runOk,
  sh,
  short,
} from '../helpers/cli.js';
import { checkLayout, layersOf } from '../helpers/layout.js';

const clean = { missing: [], corrupt: [], unreferenced: [] };

interface Inspected {
  Id: string;
  Os: string;
  Architecture: string;
  RootFS: { Type: string; Layers: string[] };
}

async function inspectOne(root: string, ref: string): Promise<Inspected> {
  const r = await runCli(['inspect', ref], { root });
  expectExit(r, 0);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

/** Member names of the single layer of the image named `fullRef`, listed by GNU tar. */
async function layerFiles(root: string, fullRef: string): Promise<string[]> {
  const layers = await layersOf(root, fullRef);
  expect(layers).toHaveLength(1);
  const r = await sh('tar', ['-tf', join(root, 'blobs', 'sha256', layers[0]!.digest.slice(7))]);
  expect(r.code, r.stderr).toBe(0);
  return lines(r.stdout).map((l) => l.replace(/^\.\//, ''));
}

async function expectImported(root: string, stdout: string, name: string | undefined): Promise<string> {
  const id = stdout.trim();
  expect(stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  const q = lines((await runOk(['images', '-q', '--no-trunc'], { root })).stdout);
  expect(q).toContain(id);
  const img = await inspectOne(root, name ?? id);
  expect(img.Id).toBe(id);
  expect(img.Os).toBe('linux');
  expect(img.Architecture).toMatch(/^[a-z0-9]+$/);
  expect(img.RootFS.Type).toBe('layers');
  expect(img.RootFS.Layers).toHaveLength(1);
  expect(await checkLayout(root)).toMatchObject(clean);
  return id;
}

describe('import', () => {
  it('DIR NAME:TAG makes a one-layer image holding the files', async () => {
    const root = await makeRoot();
    const dir = await makeRootfsDir({ 'etc/motd': 'hello\n', 'usr/share/doc/readme.txt': 'read me\n' });
    const r = await runCli(['import', dir, 'mine/fromdir:1.0'], { root });
    expectExit(r, 0);
    const id = await expectImported(root, r.stdout, 'mine/fromdir:1.0');
    const t = parseTable((await runOk(['images'], { root })).stdout);
    expect(t.rows.map((x) => x.slice(0, 3))).toEqual([['mine/fromdir', '1.0', short(id)]]);
    const files = await layerFiles(root, 'docker.io/mine/fromdir:1.0');
    expect(files).toContain('etc/motd');
    expect(files).toContain('usr/share/doc/readme.txt');
  });

  it('FILE.tar without a name makes a dangling image', async () => {
    const root = await makeRoot();
    const tar = join(await makeSandbox(), 'rootfs.tar');
    await writeFile(tar, await rootfsTar({ 'etc/hostname': 'tarball\n' }));
    const r = await runCli(['import', tar], { root });
    expectExit(r, 0);
    const id = await expectImported(root, r.stdout, undefined);
    const t = parseTable((await runOk(['images'], { root })).stdout);
    expect(t.rows.map((x) => x.slice(0, 3))).toEqual([['<none>', '<none>', short(id)]]);
  });

  it('FILE.tar NAME and FILE.tar.gz NAME', async () => {
    const root = await makeRoot();
    const dir = await makeSandbox();
    await writeFile(join(dir, 'a.tar'), await rootfsTar({ 'etc/a': 'a\n' }));
    await writeFile(join(dir, 'b.tar.gz'), await rootfsTar({ 'etc/b': 'b\n' }, { gzip: true }));
    const a = await runCli(['import', join(dir, 'a.tar'), 'fromtar:a'], { root });
    expectExit(a, 0);
    await expectImported(root, a.stdout, 'fromtar:a');
    const b = await runCli(['import', join(dir, 'b.tar.gz'), 'fromtar:b'], { root });
    expectExit(b, 0);
    await expectImported(root, b.stdout, 'fromtar:b');
    expect(await layerFiles(root, 'docker.io/library/fromtar:a')).toContain('etc/a');
    expect(await layerFiles(root, 'docker.io/library/fromtar:b')).toContain('etc/b');
  });

  it('- NAME reads the tarball from stdin', async () => {
    const root = await makeRoot();
    const r = await runCli(['import', '-', 'fromstdin'], { root, input: await rootfsTar({ 'etc/stdin': 'piped\n' }) });
    expectExit(r, 0);
    await expectImported(root, r.stdout, 'fromstdin');
    expect(await namesInStore(root)).toEqual(['docker.io/library/fromstdin:latest']);
    expect(await layerFiles(root, 'docker.io/library/fromstdin:latest')).toContain('etc/stdin');
  });
});

describe('save and load', () => {
  it('save -o FILE then load -i FILE into a fresh store gives the same IMAGE ID', async () => {
    const a = await makeRoot();
    const id = await loadFixture(a);
    const out = join(await makeSandbox(), 'out.tar');
    const s = await runCli(['save', '-o', out, 'apa000ex22'], { root: a });
    expectExit(s, 0);
    expect(s.stdout).toBe('');
    const b = await makeRoot();
    const l = await runCli(['load', '-i', out], { root: b });
    expectExit(l, 0);
    expect(l.stdout).toBe('Loaded image: apa000ex22:latest\n');
    expect(await idFromStore(b, FIXTURE_REF)).toBe(id);
    expect(await checkLayout(b)).toMatchObject(clean);
  });

  it('save IMAGE > FILE (stdout) then load < FILE (stdin)', async () => {
    const a = await makeRoot();
    const id = await loadFixture(a);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root: a });
    const s = await runCli(['save', 'zoozoo.coomm/nyapacchi:13'], { root: a });
    expectExit(s, 0);
    expect(s.stdoutBuffer.length).toBeGreaterThan(1024);
    const file = join(await makeSandbox(), 'stdout.tar');
    await writeFile(file, s.stdoutBuffer);
    const listed = await sh('tar', ['-tf', file]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(lines(listed.stdout)).toContain('manifest.json');

    const b = await makeRoot();
    const l = await runCli(['load'], { root: b, stdinFile: file });
    expectExit(l, 0);
    expect(l.stdout).toBe('Loaded image: zoozoo.coomm/nyapacchi:13\n');
    expect(await idFromStore(b, 'zoozoo.coomm/nyapacchi:13')).toBe(id);
    expect(await namesInStore(b)).toEqual(['zoozoo.coomm/nyapacchi:13']);
  });

  it('save of several names carries them all', async () => {
    const a = await makeRoot();
    const id = await loadFixture(a);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root: a });
    const other = (await runOk(['import', await makeRootfsDir({ 'etc/o': 'o' }), 'other:1'], { root: a })).stdout.trim();
    const out = join(await makeSandbox(), 'many.tar');
    expectExit(await runCli(['save', '-o', out, 'apa000ex22', 'zoozoo.coomm/nyapacchi:13', 'other:1'], { root: a }), 0);
    const b = await makeRoot();
    const l = await runCli(['load', '-i', out], { root: b });
    expectExit(l, 0);
    expect(lines(l.stdout).sort()).toEqual(['Loaded image: apa000ex22:latest', 'Loaded image: other:1', 'Loaded image: zoozoo.coomm/nyapacchi:13']);
    expect(await idFromStore(b, 'zoozoo.coomm/nyapacchi:13')).toBe(id);
    expect(await idFromStore(b, 'docker.io/library/other:1')).toBe(other);
    expect(await checkLayout(b)).toMatchObject(clean);
  });

  it('loading the same archive twice is harmless', async () => {
    const root = await makeRoot();
    const id = await loadFixture(root);
    const r = await runCli(['load', '-i', requireFixture()], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: apa000ex22:latest\n');
    expect(await namesInStore(root)).toEqual([FIXTURE_REF]);
    expect(await idFromStore(root, FIXTURE_REF)).toBe(id);
    expect(await checkLayout(root)).toMatchObject(clean);
  });

  it('the fixture loads with an ID that is a sha256 digest', async () => {
    const root = await makeRoot();
    expect(await loadFixture(root)).toMatch(FULL_ID);
  });
});
