// Bad input: exit code 1, ONE line on stderr, no stack trace, and the store byte-for-byte unchanged.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corruptLayer, truncateHalf, withExtraMember } from '../helpers/archive.js';
import type { RunResult } from '../helpers/cli.js';
import { expectOneLineError, importDir, loadFixture, makeRoot, makeSandbox, requireFixture, runCli, snapshotTree } from '../helpers/cli.js';

/** A store holding the fixture (for tag/rmi cases). */
async function fixtureStore(): Promise<string> {
  const root = await makeRoot();
  await loadFixture(root);
  return root;
}

/** A store holding one small imported image but not the fixture (for load cases). */
async function otherStore(): Promise<string> {
  const root = await makeRoot();
  await importDir(root, 'base image', 'base:1');
  return root;
}

/** Runs the CLI against `root` and checks exit 1, one stderr line containing `text`, and an unchanged store. */
async function expectRejected(root: string, args: string[], text: string, opts: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  const before = await snapshotTree(root);
  expect(before.size).toBeGreaterThan(0);
  const r = await runCli(args, { root, ...opts });
  expectOneLineError(r, text);
  expect(r.stdout).toBe('');
  expect(await snapshotTree(root)).toEqual(before);
  return r;
}

describe('bad references', () => {
  it('tag apa000ex22 Foo: must be lowercase', async () => {
    const r = await expectRejected(await fixtureStore(), ['tag', 'apa000ex22', 'Foo'], 'must be lowercase');
    expect(r.stderr).toContain('invalid reference format');
  });

  it("tag apa000ex22 'a::b': invalid reference format", async () => {
    await expectRejected(await fixtureStore(), ['tag', 'apa000ex22', 'a::b'], 'invalid reference format');
  });

  it('tag apa000ex22 x:-bad (a tag must start with a word character): invalid reference format', async () => {
    await expectRejected(await fixtureStore(), ['tag', 'apa000ex22', 'x:-bad'], 'invalid reference format');
  });

  it('a 256-character repository path: must not be more than 255 characters', async () => {
    await expectRejected(await fixtureStore(), ['tag', 'apa000ex22', 'a'.repeat(256)], 'must not be more than 255 characters');
  });

  it('a digest target: refusing to create a tag with a digest reference', async () => {
    await expectRejected(await fixtureStore(), ['tag', 'apa000ex22', `x@sha256:${'0'.repeat(64)}`], 'refusing to create a tag with a digest reference');
  });
});

describe('unknown images', () => {
  it('rmi nosuch', async () => {
    await expectRejected(await fixtureStore(), ['rmi', 'nosuch'], 'No such image: nosuch:latest');
  });

  it('tag nosuch x', async () => {
    await expectRejected(await fixtureStore(), ['tag', 'nosuch', 'x'], 'No such image: nosuch:latest');
  });

  it('an ambiguous ID prefix is refused by tag and rmi', { timeout: 300_000 }, async () => {
    const root = await makeRoot();
    const ids = [await loadFixture(root)];
    let shared: string | undefined;
    // 17 images with 16 possible first hex digits must collide; usually a handful suffice.
    for (let k = 0; k < 17 && !shared; k++) {
      ids.push(await importDir(root, `image number ${k}`, `imp:${k}`));
      const firsts = ids.map((i) => i.slice(7, 8));
      shared = firsts.find((c, i) => firsts.indexOf(c) !== i);
    }
    expect(shared, `ids: ${ids.join(' ')}`).toBeDefined();
    // No image is named after a single hex digit, so the argument can only be an ID prefix.
    await expectRejected(root, ['tag', shared!, 'x'], '');
    await expectRejected(root, ['rmi', shared!], '');
  });
});

describe('bad archives', () => {
  it('load -i /nonexistent.tar', async () => {
    await expectRejected(await otherStore(), ['load', '-i', '/nonexistent.tar'], '/nonexistent.tar');
  });

  it('load from empty stdin', async () => {
    await expectRejected(await otherStore(), ['load'], '', { input: '' });
  });

  it('load of bytes that are not a tar', async () => {
    const file = join(await makeSandbox(), 'garbage.tar');
    await writeFile(file, 'this is not a tar archive\n'.repeat(100));
    await expectRejected(await otherStore(), ['load', '-i', file], '');
  });

  it('load of a truncated archive (the first half of the fixture)', async () => {
    const file = join(await makeSandbox(), 'half.tar');
    await truncateHalf(requireFixture(), file);
    await expectRejected(await otherStore(), ['load', '-i', file], '');
  });

  it('load of an archive whose layer does not match its digest', async () => {
    const file = join(await makeSandbox(), 'corrupt.tar');
    const { member } = await corruptLayer(requireFixture(), file);
    expect(member).toMatch(/\S/);
    await expectRejected(await otherStore(), ['load', '-i', file], '');
  });

  for (const name of ['../evil', '/abs/evil']) {
    it(`load of an archive with a member named ${name} writes nothing outside the store`, async () => {
      const sandbox = await makeSandbox();
      const cwd = join(sandbox, 'cwd', 'sub');
      await mkdir(cwd, { recursive: true });
      const root = await otherStore();
      const file = join(sandbox, 'evil.tar');
      await withExtraMember(requireFixture(), file, name);
      const watched = [join(root, '..', 'evil'), join(cwd, '..', 'evil'), join(cwd, 'evil'), join(sandbox, 'evil'), '/abs/evil', '/abs', '/evil', '/tmp/evil'];
      const existed = new Map(watched.map((p) => [p, existsSync(p)]));
      try {
        await expectRejected(root, ['load', '-i', file], '', { cwd });
        for (const p of watched) expect(existsSync(p), `${p} must not be created`).toBe(existed.get(p));
      } finally {
        for (const p of watched) if (!existed.get(p) && existsSync(p)) await rm(p, { recursive: true, force: true });
      }
    });
  }
});

describe('bad output paths and names given with a file', () => {
  it('save -o into a folder that does not exist: docker\'s "invalid output path", no stack trace', async () => {
    const missing = join(await makeSandbox(), 'missing-dir');
    await expectRejected(await fixtureStore(), ['save', '-o', join(missing, 'x.tar'), 'apa000ex22'], `failed to save image: invalid output path: directory "${missing}" does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it('save -o naming a folder: invalid output path, the folder untouched', async () => {
    const dir = await makeSandbox();
    await expectRejected(await fixtureStore(), ['save', '-o', dir, 'apa000ex22'], `invalid output path: "${dir}" is a directory`);
  });

  it('import FILE with a bad name: the one-line reference error and no file-handle warning', async () => {
    await expectRejected(await otherStore(), ['import', requireFixture(), 'BAD:1'], 'must be lowercase');
  });

  it('pull --platform bogus: unknown operating system or architecture, before any network', async () => {
    await expectRejected(await otherStore(), ['pull', '--platform', 'bogus', '127.0.0.1:9/x:1'], '"bogus": unknown operating system or architecture');
  });
});
