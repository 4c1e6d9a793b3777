// Issue 12 item 11: retries only where they can help. A refused loopback port or a name that
// does not resolve fails at the /v2/ ping at once (as docker does), with a hint for the refused
// loopback port; a full disk during a pull fails at once, not after a minute of retries. Each:
// one line on stderr, exit 1, the store unchanged, nothing printed raw; wall time bounded.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, importDir, makeRoot, makeSandbox, sh, snapshotTree } from '../helpers/cli.js';
import type { Hostile } from '../helpers/hostile-registry.js';
import { hasRawControl, makeTestImage, startHostile } from '../helpers/hostile-registry.js';
import { RETRYING, show, tsd } from '../helpers/remote-cli.js';

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The store minus resumable partial downloads (ingest/partial/), which a failed pull keeps on purpose. */
async function storeState(root: string): Promise<Map<string, string>> {
  const all = await snapshotTree(root);
  for (const k of [...all.keys()]) if (k.startsWith(join('ingest', 'partial'))) all.delete(k);
  return all;
}

/** Runs the CLI and returns the result with its wall time in seconds. */
async function timed(args: string[], root: string): Promise<{ r: Awaited<ReturnType<typeof tsd>>; seconds: number }> {
  const t0 = Date.now();
  const r = await tsd(args, { root, timeoutMs: 60_000 });
  return { r, seconds: (Date.now() - t0) / 1000 };
}

describe('fails at once at first contact', () => {
  it('pull from a closed loopback port: one line with the hint, exit 1, under 2 s', async () => {
    const port = await closedPort();
    const root = await makeRoot();
    await importDir(root, 'kept', 'kept:1');
    const before = await snapshotTree(root);
    const { r, seconds } = await timed(['pull', `127.0.0.1:${port}/x:1`], root);
    expectOneLineError(r, `127.0.0.1:${port}: connection refused: is a registry running there? ts-docker run -d -p ${port}:5000 registry`);
    expect(r.stdout).not.toMatch(RETRYING);
    expect(seconds, show(r)).toBeLessThan(2);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('push to a closed localhost port: one line with the hint, exit 1, under 2 s', async () => {
    const port = await closedPort();
    const root = await makeRoot();
    await importDir(root, 'to push', `localhost:${port}/x:1`);
    const before = await snapshotTree(root);
    const { r, seconds } = await timed(['push', `localhost:${port}/x:1`], root);
    expectOneLineError(r, `connection refused: is a registry running there? ts-docker run -d -p ${port}:5000 registry`);
    expect(r.stdout).not.toMatch(RETRYING);
    expect(seconds, show(r)).toBeLessThan(2);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('pull from a name that does not resolve (.invalid): one line, exit 1, no retries, under 2 s', async () => {
    const root = await makeRoot();
    await importDir(root, 'kept', 'kept:1');
    const before = await snapshotTree(root);
    const { r, seconds } = await timed(['pull', 'nosuch.invalid:5000/x'], root);
    expectExitOneLine(r);
    expect(r.stderr).toMatch(/no such host|temporary failure in name resolution/);
    expect(r.stderr).toContain('nosuch.invalid:5000');
    expect(r.stderr).not.toContain('is a registry running there');
    expect(r.stdout).not.toMatch(RETRYING);
    expect(seconds, show(r)).toBeLessThan(2);
    expect(await snapshotTree(root)).toEqual(before);
  });
});

describe('a server that does not speak HTTP', () => {
  it('pull from it fails at once: one line, exit 1, no retries, under 2 s', async () => {
    const socks = new Set<import('node:net').Socket>();
    const srv = createServer((sock) => {
      socks.add(sock);
      sock.on('error', () => undefined);
      sock.end('SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n');
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      const root = await makeRoot();
      await importDir(root, 'kept', 'kept:1');
      const before = await snapshotTree(root);
      const { r, seconds } = await timed(['pull', `127.0.0.1:${port}/x:1`], root);
      expectExitOneLine(r);
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stdout).not.toMatch(RETRYING);
      expect(seconds, show(r)).toBeLessThan(2);
      expect(await snapshotTree(root)).toEqual(before);
    } finally {
      for (const s of socks) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});

describe('login fails at once at first contact', () => {
  it('to a closed loopback port and to a name that does not resolve: one line each, exit 1, under 2 s', async () => {
    const port = await closedPort();
    const root = await makeRoot();
    for (const host of [`127.0.0.1:${port}`, 'nosuch.invalid:5000']) {
      const t0 = Date.now();
      const r = await tsd(['login', '-u', 'u', '--password-stdin', host], { root, input: 'p\n', timeoutMs: 60_000 });
      expectExitOneLine(r);
      expect(r.stderr).toContain(host);
      expect(r.stdout + r.stderr).not.toMatch(RETRYING);
      expect((Date.now() - t0) / 1000, show(r)).toBeLessThan(2);
    }
  });
});

/** Exit 1 and one line on stderr, nothing raw. */
function expectExitOneLine(r: Awaited<ReturnType<typeof tsd>>): void {
  expectOneLineError(r, 'Error: ');
  expect(hasRawControl(r.stderr + r.stdout)).toBe(false);
}

describe('a local disk error during a pull', () => {
  let h: Hostile;
  let mnt: string | undefined;
  beforeAll(async () => {
    h = await startHostile();
  });
  afterAll(async () => {
    if (mnt) await sh('umount', [mnt]);
  });

  it('ENOSPC (a 300 KiB tmpfs store, a 1 MiB layer): one line, exit 1, within seconds, no "Retrying"', async () => {
    if (process.getuid?.() !== 0) return void console.warn('skipped: mounting a tmpfs needs root');
    const dir = join(await makeSandbox(), 'small');
    await mkdir(dir);
    const m = await sh('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', dir]);
    expect(m.code, show(m)).toBe(0);
    mnt = dir;
    h.setImage('big', makeTestImage({ files: [randomBytes(1024 * 1024)] }));
    await importDir(dir, 'kept', 'kept:1');
    const before = await storeState(dir);
    const { r, seconds } = await timed(['pull', `${h.host}/big:1`], dir);
    expectExitOneLine(r);
    expect(r.stderr).toMatch(/no space left on device|ENOSPC/i);
    expect(r.stdout).not.toMatch(RETRYING);
    expect(seconds, show(r)).toBeLessThan(5);
    expect(await storeState(dir)).toEqual(before);
    await sh('umount', [dir]);
    mnt = undefined;
    await rm(dir, { recursive: true, force: true });
  });
});
