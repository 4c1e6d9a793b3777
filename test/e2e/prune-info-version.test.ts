// `image prune [-a] -f`, `info`, `version`, and a store made on first use.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FIXTURE_REF,
  REPO_ROOT,
  expectExit,
  importDir,
  lines,
  listBlobs,
  loadFixture,
  makeRoot,
  makeSandbox,
  namesInStore,
  readIndex,
  requireFixture,
  runCli,
  runOk,
} from '../helpers/cli.js';
import { checkLayout } from '../helpers/layout.js';

const clean = { missing: [], corrupt: [], unreferenced: [] };
const RECLAIMED = /^Total reclaimed space: \d+(\.\d+)?(B|kB|MB|GB)$/m;

describe('image prune', () => {
  it('-f removes dangling images only', async () => {
    const root = await makeRoot();
    const old = await loadFixture(root);
    const repointed = await importDir(root, 'new apa000ex22', 'apa000ex22:latest'); // the fixture is now dangling
    const kept = await importDir(root, 'kept', 'keep:1');
    const r = await runCli(['image', 'prune', '-f'], { root });
    expectExit(r, 0);
    expect(r.stdout).toMatch(RECLAIMED);
    expect(r.stdout).toContain(old.slice(7));
    expect(r.stdout).not.toMatch(/^Total reclaimed space: 0B$/m);
    const ids = lines((await runOk(['images', '-q', '--no-trunc'], { root })).stdout).sort();
    expect(ids).toEqual([repointed, kept].sort());
    expect(await namesInStore(root)).toEqual([FIXTURE_REF, 'docker.io/library/keep:1']);
    expect(await checkLayout(root)).toMatchObject(clean);
  });

  it('-f with nothing dangling removes nothing and reclaims 0B', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const blobs = await listBlobs(root);
    const r = await runCli(['image', 'prune', '-f'], { root });
    expectExit(r, 0);
    expect(lines(r.stdout).at(-1)).toBe('Total reclaimed space: 0B');
    expect(await listBlobs(root)).toEqual(blobs);
    expect(await namesInStore(root)).toEqual([FIXTURE_REF]);
  });

  it('-a -f removes every unused image (here: all of them)', async () => {
    const root = await makeRoot();
    const id = await loadFixture(root);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const other = await importDir(root, 'other', 'other:1');
    const r = await runCli(['image', 'prune', '-a', '-f'], { root });
    expectExit(r, 0);
    expect(r.stdout).toMatch(RECLAIMED);
    expect(r.stdout).toContain(id.slice(7));
    expect(r.stdout).toContain(other.slice(7));
    expect(lines((await runOk(['images', '-q'], { root })).stdout)).toEqual([]);
    expect((await readIndex(root)).manifests).toEqual([]);
    expect(await listBlobs(root)).toEqual([]);
  });
});

describe('info', () => {
  it('prints the store path and counts', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    await importDir(root, 'x', 'apa000ex22:latest'); // re-points apa000ex22; zoozoo still names the fixture
    const r = await runCli(['info'], { root });
    expectExit(r, 0);
    expect(r.stdout).toContain(root);
    expect(r.stdout).toMatch(/Images:\s+2\b/);
    expect(r.stdout).toMatch(/Names:\s+2\b/);
  });

  it('on an empty store says 0 images', async () => {
    const root = await makeRoot();
    const r = await runCli(['info'], { root });
    expectExit(r, 0);
    expect(r.stdout).toContain(root);
    expect(r.stdout).toMatch(/Images:\s+0\b/);
  });
});

describe('version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli(['version'], { root: await makeRoot() });
    expectExit(r, 0);
    expect(r.stdout).toMatch(/\d+\.\d+\.\d+/);
    expect(r.stdout).toContain(version);
  });
});

describe('the store', () => {
  it('is created on first use when --root does not exist yet, as an OCI layout', async () => {
    const root = join(await makeSandbox(), 'not', 'yet');
    const r = await runCli(['load', '-i', requireFixture()], { root });
    expectExit(r, 0);
    expect(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect((await readIndex(root)).schemaVersion).toBe(2);
    expect(await checkLayout(root)).toMatchObject(clean);
  });

  it('TS_DOCKER_ROOT chooses the store when --root is absent', async () => {
    const root = await makeRoot();
    const r = await runCli(['load', '-i', requireFixture()], { env: { TS_DOCKER_ROOT: root } });
    expectExit(r, 0);
    expect(await namesInStore(root)).toEqual([FIXTURE_REF]);
  });
});
