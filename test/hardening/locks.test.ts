// Issue 12 item 5: a lock left by a crash, a full disk (an empty lock file), a dead owner or a live
// process that only reuses the owner's pid is stale: the next command breaks it at once instead of
// waiting 60 s and failing for ever. A lock of a live owner is still respected.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { lstat, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Sidecars } from '../../src/store/sidecars.js';
import { StoreLayout } from '../../src/store/layout.js';
import { breakIfStale, lockHeld, withLock } from '../../src/store/lock.js';
import { bootId, formatRecord, hostTag, startTicks } from '../../src/store/process-id.js';
import { expectExit, expectOneLineError, loadFixture, makeRoot, makeSandbox, namesInStore, runCli, sh, snapshotTree } from '../helpers/cli.js';

const DIGEST = `sha256:${'ab'.repeat(32)}` as const;
/** A command that breaks a stale lock ends in about its own time; a wedged one waits 60 s. */
const FAST_MS = 15_000;

/** Whether anything is at `path`, a dangling symlink (how locks are written) included. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A live process unrelated to ts-docker (`sleep`), killed after the test. */
async function liveStranger(): Promise<number> {
  const c = spawn('sleep', ['300'], { stdio: 'ignore' });
  children.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('spawn', () => resolve());
    c.once('error', reject);
  });
  return c.pid!;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const r = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = r.pid!;
  await new Promise((resolve) => r.once('exit', resolve));
  return pid;
}

function record(pid: number, start: string): string {
  return formatRecord({ pid, start, boot: bootId(), token: 'feedf00d', host: hostTag() });
}

/** `tag` on a store whose lock was left as `leave` did; must succeed at once and leave no lock. */
async function tagThrough(leave: (lock: string) => Promise<void>): Promise<void> {
  const root = await makeRoot();
  await loadFixture(root);
  const lock = join(root, 'index.json.lock');
  await leave(lock);
  const t0 = Date.now();
  const r = await runCli(['tag', 'apa000ex22', 'after:1'], { root, timeoutMs: 90_000 });
  expectExit(r, 0);
  expect(r.stderr).toBe('');
  expect(Date.now() - t0, 'the stale lock was broken, not waited out').toBeLessThan(FAST_MS);
  expect(await namesInStore(root)).toContain('docker.io/library/after:1');
  expect(present(lock), 'no lock is left behind').toBe(false);
  expect(present(`${lock}.break`)).toBe(false);
}

describe('stale store locks are broken at once', () => {
  it('an empty lock file (ENOSPC between create and write in an older version, or a crash)', async () => {
    await tagThrough(async (lock) => {
      await writeFile(lock, '');
      // Older than the grace given to an older version between its create and its write.
      const past = new Date(Date.now() - 5_000);
      await utimes(lock, past, past);
    });
  });

  it('an empty lock file just written (no mtime games): broken after a short grace', async () => {
    await tagThrough((lock) => writeFile(lock, ''));
  });

  it('a lock left by a dead process (new record and old plain-pid format)', async () => {
    const pid = await deadPid();
    await tagThrough((lock) => symlink(record(pid, '12345'), lock));
    await tagThrough((lock) => writeFile(lock, String(pid)));
  });

  it('a lock naming a live unrelated process whose start time differs (a reused pid)', async () => {
    const pid = await liveStranger();
    await tagThrough((lock) => symlink(record(pid, '1'), lock));
    expect(() => process.kill(pid, 0), 'the stranger is left alone').not.toThrow();
  });

  it('an old plain-pid lock naming a live process started after the lock was written (a reused pid)', async () => {
    const pid = await liveStranger();
    await tagThrough(async (lock) => {
      await writeFile(lock, `${pid}\n`);
      const past = new Date(Date.now() - 3_600_000);
      await utimes(lock, past, past);
    });
  });

  it('a lock written on another boot', async () => {
    await tagThrough((lock) => symlink(formatRecord({ pid: process.pid, start: startTicks(process.pid) ?? '', boot: '00000000', token: '1234abcd', host: hostTag() }), lock));
  });

  it('two commands meeting the same stale lock both succeed and lose no name', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    await symlink(record(await deadPid(), '7'), join(root, 'index.json.lock'));
    const [a, b] = await Promise.all([runCli(['tag', 'apa000ex22', 'a:1'], { root }), runCli(['tag', 'apa000ex22', 'b:1'], { root })]);
    expectExit(a, 0);
    expectExit(b, 0);
    expect(await namesInStore(root)).toEqual(expect.arrayContaining(['docker.io/library/a:1', 'docker.io/library/b:1']));
    expect(present(join(root, 'index.json.lock'))).toBe(false);
  });
});

describe('a live owner is respected', () => {
  it('a second writer waits for the holder, then succeeds', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let acquired!: () => void;
    const gotIt = new Promise<void>((r) => (acquired = r));
    const holding = withLock(join(root, 'index.json.lock'), async () => {
      acquired();
      await held;
    });
    await gotIt;
    let done = false;
    const tag = runCli(['tag', 'apa000ex22', 'waited:1'], { root }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(done, 'the second writer is still waiting').toBe(false);
    expect(await namesInStore(root)).not.toContain('docker.io/library/waited:1');
    release();
    await holding;
    const r = await tag;
    expectExit(r, 0);
    expect(await namesInStore(root)).toContain('docker.io/library/waited:1');
  });

  it('an old-format lock naming a live ts-docker process (started before the lock) is waited for', async () => {
    const root = await makeRoot();
    await loadFixture(root);
    const lock = join(root, 'index.json.lock');
    await writeFile(lock, String(process.pid));
    expect(lockHeld(lock)).toBe(true);
    expect(breakIfStale(lock)).toBe(false);
    let done = false;
    const tag = runCli(['tag', 'apa000ex22', 'old:1'], { root }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(done).toBe(false);
    await rm(lock);
    expectExit(await tag, 0);
  });

  it('giving up says who holds the lock: pid and command line', async () => {
    const dir = await makeSandbox();
    const lock = join(dir, 'x.lock');
    const pid = await liveStranger();
    await symlink(record(pid, startTicks(pid)!), lock);
    const err = await withLock(lock, async () => 'unexpected', { timeoutMs: 200 }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`^timed out waiting for the store lock ${lock}: held by pid ${pid} \\(sleep 300\\) running since \\d{4}-`));
    expect((await lstat(lock)).isSymbolicLink(), 'a live lock is never broken').toBe(true);
  });

  it('release removes only our own lock', async () => {
    const dir = await makeSandbox();
    const lock = join(dir, 'y.lock');
    await withLock(lock, async () => {
      // Someone replaced it (cannot happen to a live owner; checked anyway).
      await rm(lock);
      await writeFile(lock, 'other');
    });
    expect(await readFile(lock, 'utf8')).toBe('other');
  });

  it('many writers in one process never hold the lock at once, even starting from a stale lock', async () => {
    const dir = await makeSandbox();
    const lock = join(dir, 'z.lock');
    await symlink(record(await deadPid(), '3'), lock);
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 20 }, () => withLock(lock, async () => {
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 2));
      inside--;
    })));
    expect(most).toBe(1);
    expect(present(lock)).toBe(false);
  });
});

describe('claim files (partial downloads, upload sessions) use the same lock', () => {
  it.each([
    ['empty', async (p: string) => {
      await writeFile(p, '');
      const past = new Date(Date.now() - 5_000);
      await utimes(p, past, past);
    }],
    ['dead owner', async (p: string) => symlink(record(await deadPid(), '9'), p)],
    ['reused pid', async (p: string) => symlink(record(await liveStranger(), '1'), p)],
  ] as const)('a stale partial-download claim (%s) is broken', async (_what, leave) => {
    const root = await makeRoot();
    const layout = new StoreLayout(root);
    const side = new Sidecars(layout);
    const { path } = await side.partial(DIGEST);
    await leave(`${path}.lock`);
    const got = await side.claimPartial(DIGEST, AbortSignal.timeout(10_000), async (waited) => waited);
    expect(got, 'no owner was waited for').toBe(false);
    expect(present(`${path}.lock`)).toBe(false);
    const pid = await deadPid();
    const upload = join(root, 'uploads');
    await side.claimUpload('reg.example', 'a/b', DIGEST, undefined, async () => undefined);
    // Find the upload lock's name by claiming once, then leave a stale one there.
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(upload)).filter((n) => n.endsWith('.lock'))).toEqual([]);
    let lockName = '';
    await side.claimUpload('reg.example', 'a/b', DIGEST, undefined, async () => {
      lockName = (await readdir(upload)).find((n) => n.endsWith('.lock'))!;
    });
    await symlink(record(pid, '1'), join(upload, lockName));
    expect(await side.claimUpload('reg.example', 'a/b', DIGEST, AbortSignal.timeout(10_000), async (waited) => waited)).toBe(false);
  });
});

describe('a full disk never wedges the store', () => {
  let mnt: string;
  beforeAll(async () => {
    mnt = join(await makeSandbox(), 'tmpfs');
    await sh('mkdir', ['-p', mnt]);
    const m = await sh('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
    if (m.code !== 0) throw new Error(`cannot mount a tmpfs (run the tests as root): ${m.stderr}`);
  });
  afterAll(async () => {
    await sh('umount', [mnt]);
  });

  it('a write failing with ENOSPC: one line, exit 1, store unchanged, no lock left; once space is freed the next command works at once', async () => {
    const root = join(mnt, 'root');
    await sh('mkdir', ['-p', root]);
    await loadFixture(root);
    // Fill the disk to the last byte.
    const fill = await sh('sh', ['-c', `cat /dev/zero > ${join(mnt, 'filler')}`]);
    expect(fill.stderr).toContain('No space left on device');
    const before = await snapshotTree(root);
    const r = await runCli(['tag', 'apa000ex22', 'full:1'], { root });
    expectOneLineError(r, `cannot write to the store at ${root}: no space left on device`);
    expect(await snapshotTree(root)).toEqual(before);
    expect(present(join(root, 'index.json.lock'))).toBe(false);

    // An older version's lock emptied by the full disk is recognised as well.
    await writeFile(join(root, 'index.json.lock'), '').catch(() => undefined);
    await rm(join(mnt, 'filler'));
    const t0 = Date.now();
    const ok = await runCli(['tag', 'apa000ex22', 'full:1'], { root });
    expectExit(ok, 0);
    expect(Date.now() - t0).toBeLessThan(FAST_MS);
    expect(await namesInStore(root)).toContain('docker.io/library/full:1');
  });
});
