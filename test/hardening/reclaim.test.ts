// Issue 12 item 13: what a failure leaves on disk is reclaimed. A `load` killed with SIGKILL leaves
// temp files in ingest/: the next command that writes sweeps them (their writer is dead), `info`
// shows them, `image prune` removes them and says how much. A `pull` killed half-way keeps its
// partial download for resume; `info` shows it, `image prune` removes it (never one a live pull is
// writing) and counts it in `Total reclaimed space`, and a later pull still works. A full disk
// (a small tmpfs as --root) mid-load or mid-pull is one line and exit 1; then `image prune` frees it.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { humanSize } from '../../src/cli/format/humanize.js';
import type { RunResult } from '../helpers/cli.js';
import { BIN, REPO_ROOT, SCRUBBED_ENV, expectExit, expectOneLineError, loadFixture, makeRoot, makeSandbox, namesInStore, runCli, runOk, sh, snapshotTree } from '../helpers/cli.js';
import { waitUntil } from '../helpers/daemon.js';
import type { Match, RecordFilter } from '../helpers/fault-proxy.js';
import { isBlobGet } from '../helpers/fault-proxy.js';
import type { MadeImage } from '../helpers/images.js';
import { describeStored, makeImage, storeProblems } from '../helpers/images.js';
import { useRegistryWithProxy } from '../helpers/registry-suite.js';
import { show, startCli, tsd } from '../helpers/remote-cli.js';

const MiB = 1024 * 1024;
const env = useRegistryWithProxy();

/** The 64 MiB image, made once: in a store, in the registry, and as a docker-archive. */
let big: MadeImage;
let archive: string;
let name: string;
beforeAll(async () => {
  const src = await makeRoot();
  const direct = `${env.reg.host}/reclaim/big:1`;
  big = await makeImage(src, direct, [{ sizeMiB: 64, seed: 1301 }]);
  const pushed = await tsd(['push', direct], { root: src });
  expect(pushed.code, show(pushed)).toBe(0);
  archive = join(await makeSandbox(), 'big.tar');
  await runOk(['save', '-o', archive, direct], { root: src });
  name = `${env.host}/reclaim/big:1`;
}, 300_000);

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Files and symlinks (locks, owner marks) directly in `dir`, not folders, and the files' total size. */
async function filesIn(dir: string): Promise<{ names: string[]; bytes: number }> {
  const out = { names: [] as string[], bytes: 0 };
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const st = await lstat(join(dir, n)).catch(() => undefined);
    if (!st || st.isDirectory()) continue;
    out.names.push(n);
    if (st.isFile()) out.bytes += st.size;
  }
  return out;
}

/** The store without its ingest folder (what a killed writer may leave is checked apart). */
async function settled(root: string): Promise<Map<string, string>> {
  const tree = await snapshotTree(root);
  for (const k of [...tree.keys()]) if (k.startsWith('ingest/')) tree.delete(k);
  return tree;
}

/** Starts `load` reading the big archive from a pipe, and kills it (SIGKILL) once half of it is in ingest/. */
async function killLoadHalfway(root: string): Promise<void> {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED_ENV) delete e[k];
  const child = spawn(process.execPath, [BIN, '--root', root, 'load'], { cwd: REPO_ROOT, env: { ...e, NO_COLOR: '1' }, stdio: ['pipe', 'ignore', 'pipe'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, sig) => resolve(sig)));
  child.stdin.on('error', () => undefined);
  // Only the first 40 MiB are sent: the load cannot finish before it is killed.
  const src = createReadStream(archive, { start: 0, end: 40 * MiB - 1 });
  src.pipe(child.stdin, { end: false });
  let gone = false;
  void exited.then(() => (gone = true));
  await waitUntil('32 MiB staged by load in ingest/', async () => ((await filesIn(join(root, 'ingest'))).bytes >= 32 * MiB ? true : undefined), {
    timeoutMs: 60_000,
    intervalMs: 20,
    dead: () => gone,
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
}

function reclaimedLine(r: RunResult): string {
  return r.stdout.split('\n').find((l) => l.startsWith('Total reclaimed space: ')) ?? '';
}

describe('a load killed with SIGKILL', () => {
  it('leaves temp files that info shows, image prune removes and counts; the store is otherwise unchanged; load works again', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const before = await settled(root);
    await killLoadHalfway(root);
    const left = await filesIn(join(root, 'ingest'));
    expect(left.names.length).toBeGreaterThan(0);
    expect(left.names.every((n) => /^\d+-\d+-[0-9a-f]+\.tmp$/.test(n))).toBe(true);
    expect(await settled(root)).toEqual(before);

    const i = await runCli(['info'], { root });
    expectExit(i, 0);
    expect(i.stdout).toContain(` Temp Files:     ${left.names.length} (${humanSize(left.bytes)})\n`);
    // A read-only command does not scan or change anything.
    expect((await filesIn(join(root, 'ingest'))).bytes).toBe(left.bytes);

    const p = await runCli(['image', 'prune', '-f'], { root });
    expectExit(p, 0);
    expect(p.stderr).toBe('');
    expect(p.stdout).toBe(`Total reclaimed space: ${humanSize(left.bytes)}\n`);
    expect((await filesIn(join(root, 'ingest'))).names).toEqual([]);
    expect(await settled(root)).toEqual(before);
    expect((await runCli(['info'], { root })).stdout).toContain(' Temp Files:     0 (0B)\n');

    const again = await runCli(['load', '-i', archive], { root });
    expectExit(again, 0);
    expect(again.stdout).toBe(`Loaded image: ${env.reg.host}/reclaim/big:1\n`);
  }, 180_000);

  it('its temp files are swept by the next command that writes (their writer is dead)', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await killLoadHalfway(root);
    expect((await filesIn(join(root, 'ingest'))).names.length).toBeGreaterThan(0);
    const t = await runCli(['tag', 'apa000ex22', 'swept:1'], { root });
    expectExit(t, 0);
    expect(t.stderr).toBe('');
    expect((await filesIn(join(root, 'ingest'))).names).toEqual([]);
  }, 180_000);
});

describe('a pull killed with SIGKILL mid-layer', () => {
  const layerGet = (): Match => (r) => isBlobGet(r) && r.path.endsWith(`/blobs/${big.layers[0]!.digest}`);
  const layerGets = (): RecordFilter => (q) => q.method === 'GET' && q.path.endsWith(`/blobs/${big.layers[0]!.digest}`);

  async function killPullHalfway(root: string): Promise<void> {
    env.proxy.setRules({ throttle: { bytesPerSecond: 16 * MiB, match: layerGet() } });
    const cli = await startCli(['pull', name], { root });
    let exited = false;
    void cli.result.then(() => (exited = true));
    await waitUntil('half of the layer received', () => (env.proxy.stats().responseBytes(layerGets()) >= 36 * MiB ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 10,
      dead: () => exited,
    });
    cli.kill('SIGKILL');
    expect((await cli.result).stderr).toContain('killed by SIGKILL');
    env.proxy.setRules({});
  }

  it('keeps its partial download: info shows it, image prune removes it and counts it, a later pull works', async () => {
    const root = await makeRoot();
    await killPullHalfway(root);
    expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
    const partial = await filesIn(join(root, 'ingest', 'partial'));
    const data = partial.names.filter((n) => /^[0-9a-f]{64}$/.test(n));
    expect(data).toHaveLength(1);
    const bytes = (await stat(join(root, 'ingest', 'partial', data[0]!))).size;
    expect(bytes).toBeGreaterThan(8 * MiB);

    const i = await runCli(['info'], { root });
    expect(i.stdout).toContain(` Partial Pulls:  1 (${humanSize(bytes)})\n`);
    const p = await runCli(['image', 'prune', '-f'], { root });
    expectExit(p, 0);
    expect(p.stderr).toBe('');
    const total = Number(/Total reclaimed space: ([\d.]+)MB/.exec(reclaimedLine(p))?.[1]);
    // The partial file, plus the temp files of the killed pull (its manifest, a few hundred bytes).
    // (shown with 3 significant digits, as docker shows sizes).
    expect(total * 1e6).toBeGreaterThan(bytes - 1e5);
    expect(total * 1e6).toBeLessThan(bytes + 1e5);
    expect((await filesIn(join(root, 'ingest', 'partial'))).names).toEqual([]);
    expect((await filesIn(join(root, 'ingest'))).names).toEqual([]);
    expect((await runCli(['info'], { root })).stdout).toContain(' Partial Pulls:  0 (0B)\n');

    const again = await tsd(['pull', name], { root });
    expect(again.code, show(again)).toBe(0);
    expect((await describeStored(root, name)).id).toBe(big.id);
  }, 300_000);

  it('a partial download a live pull is writing is never removed by image prune', async () => {
    const root = await makeRoot();
    env.proxy.setRules({ throttle: { bytesPerSecond: 8 * MiB, match: layerGet() } });
    const cli = await startCli(['pull', name], { root });
    let exited = false;
    void cli.result.then(() => (exited = true));
    await waitUntil('a quarter of the layer received', () => (env.proxy.stats().responseBytes(layerGets()) >= 16 * MiB ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 10,
      dead: () => exited,
    });
    const p = await runCli(['image', 'prune', '-f'], { root });
    expectExit(p, 0);
    expect(p.stdout).toBe('Total reclaimed space: 0B\n');
    env.proxy.setRules({});
    const r = await cli.result;
    expect(r.code, show(r)).toBe(0);
    expect((await describeStored(root, name)).id).toBe(big.id);
  }, 300_000);
});

describe('a full disk (a 40 MiB tmpfs as --root)', () => {
  let mnt: string;
  beforeAll(async () => {
    mnt = join(await makeSandbox(), 'tmpfs');
    await mkdir(mnt);
    const m = await sh('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mnt]);
    if (m.code !== 0) throw new Error(`cannot mount a tmpfs (run the tests as root): ${m.stderr}`);
  });
  afterAll(async () => {
    await sh('umount', [mnt]);
  });

  async function df(): Promise<number> {
    const r = await sh('df', ['--output=avail', '-B1', mnt]);
    return Number(r.stdout.trim().split('\n').at(-1));
  }

  it('mid-load: one line, exit 1, the store unchanged and nothing left in ingest/; the next command works at once', async () => {
    const root = join(mnt, 'load');
    await mkdir(root);
    await loadFixture(root);
    const before = await snapshotTree(root);
    const r = await runCli(['load', '-i', archive], { root });
    expectOneLineError(r, `cannot write to the store at ${root}: no space left on device`);
    expect(r.stdout).toBe('');
    expect(await snapshotTree(root)).toEqual(before);
    const t = await runCli(['tag', 'apa000ex22', 'after:1'], { root });
    expectExit(t, 0);
    expect(await namesInStore(root)).toContain('docker.io/library/after:1');
  }, 120_000);

  it('mid-pull: one line, exit 1; the partial download keeps the disk full until image prune frees it', async () => {
    const root = join(mnt, 'pull');
    await mkdir(root);
    await loadFixture(root);
    const r = await tsd(['pull', name], { root });
    expect(r.code, show(r)).toBe(1);
    const err = r.stderr.trim().split('\n');
    expect(err, show(r)).toHaveLength(1);
    expect(err[0]).toBe(`Error: cannot write to the store at ${root}: no space left on device`);
    expect(err[0]).not.toMatch(/^\s+at /);
    expect(await storeProblems(root)).toEqual({ misnamedBlobs: [], missing: [], corrupt: [] });
    expect(await df()).toBeLessThan(1 * MiB);

    const p = await runCli(['image', 'prune', '-f'], { root });
    expectExit(p, 0);
    expect(reclaimedLine(p)).toMatch(/^Total reclaimed space: (3\d|4[0-2])(\.\d)?MB$/);
    expect(await df()).toBeGreaterThan(30 * MiB);
    expect(await namesInStore(root)).toEqual(['docker.io/library/apa000ex22:latest']);
    expectExit(await runCli(['tag', 'apa000ex22', 'after:1'], { root }), 0);
  }, 300_000);
});
