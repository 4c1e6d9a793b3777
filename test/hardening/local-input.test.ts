// Local files the user points ts-docker at: `save -o` onto devices, FIFOs, sockets and links,
// `save` into a stdout that fails, `load` of an endless input, and `import` of tarballs whose
// names or links would leave the layer. Each failure is one line on stderr and exit 1, and
// leaves the store (and the thing at the path) as it was.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { packTar, readTar, type TarEntry } from '../helpers/archive.js';
import { BIN, SCRUBBED_ENV, expectOneLineError, loadFixture, makeRoot, makeSandbox, runCli, sh, snapshotTree } from '../helpers/cli.js';
import { configOf, layersOf } from '../helpers/layout.js';

let root: string;
let sandbox: string;
beforeAll(async () => {
  root = await makeRoot();
  await loadFixture(root);
  sandbox = await makeSandbox();
});

/** Runs `fn` and checks the store is byte for byte what it was. */
async function storeUnchanged<T>(fn: () => Promise<T>): Promise<T> {
  const before = await snapshotTree(root);
  const out = await fn();
  expect(await snapshotTree(root)).toEqual(before);
  return out;
}

/** Runs a bash line with ts-docker as "$0" and the store as "$1"; NO_COLOR, scrubbed env. */
function bash(line: string): ReturnType<typeof sh> {
  return sh('bash', ['-c', line, BIN, root], { env: { NO_COLOR: '1' }, unset: SCRUBBED_ENV, timeoutMs: 60_000 });
}

describe('save -o PATH writes only a new or regular file (docker: ValidateOutputPath)', () => {
  it.each(['/dev/null', '/dev/full'])('-o %s: refused as a device, the device left a device', async (dev) => {
    const before = await stat(dev);
    const r = await storeUnchanged(() => runCli(['save', '-o', dev, 'apa000ex22'], { root }));
    expectOneLineError(r, `failed to save image: invalid output path: "${dev}" must be a directory or a regular file: got a device`);
    const after = await stat(dev);
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.rdev, after.ino]).toEqual([before.rdev, before.ino]);
  });

  it('-o FIFO: refused at once (no reader needed, nothing blocks), the FIFO left a FIFO', async () => {
    const fifo = join(sandbox, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['save', '-o', fifo, 'apa000ex22'], { root, timeoutMs: 20_000 });
    expectOneLineError(r, `invalid output path: "${fifo}" must be a directory or a regular file: got a named pipe`);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('-o SOCKET: refused, the socket left a socket', async () => {
    const path = join(sandbox, 'sock');
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(path, resolve));
    try {
      const r = await runCli(['save', '-o', path, 'apa000ex22'], { root });
      expectOneLineError(r, `"${path}" must be a directory or a regular file: got a socket`);
      expect((await lstat(path)).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });

  it('-o a symlink to /dev/null: links are followed (as docker stats them), so it is a device; the link stays', async () => {
    const link = join(sandbox, 'to-null');
    await symlink('/dev/null', link);
    const r = await runCli(['save', '-o', link, 'apa000ex22'], { root });
    expectOneLineError(r, `"${link}" must be a directory or a regular file: got a device`);
    expect(await readlink(link)).toBe('/dev/null');
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('-o a symlink to a regular file: the file gets the archive (its mode kept), the link stays a link', async () => {
    const dir = join(sandbox, 'linked');
    await mkdir(dir);
    const target = join(dir, 'real.tar');
    await writeFile(target, 'old contents');
    await chmod(target, 0o600);
    const link = join(sandbox, 'to-real.tar');
    await symlink(target, link);
    const r = await runCli(['save', '-o', link, 'apa000ex22'], { root });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    const names = (await readTar(target)).map((e) => e.header.name);
    expect(names).toContain('manifest.json');
  });

  it('-o on a full filesystem: one line naming the file, and no file or temp file left', async () => {
    const mnt = join(sandbox, 'tiny');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const out = join(mnt, 'out.tar');
      const r = await storeUnchanged(() => runCli(['save', '-o', out, 'apa000ex22'], { root }));
      expectOneLineError(r, `failed to save image: write ${out}: no space left on device`);
      expect(execFileSync('ls', ['-A', mnt]).toString()).toBe('');
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('save to a stdout that fails: one line, exit 1, never a stack trace', () => {
  it('save IMAGE > /dev/full: write /dev/stdout: no space left on device', async () => {
    const r = await storeUnchanged(() => bash('node "$0" --root "$1" save apa000ex22 > /dev/full'));
    expectOneLineError(r, 'Error: failed to save image: write /dev/stdout: no space left on device');
  });

  it('save IMAGE | head -c 100: a truncated archive is a failure (exit 1, broken pipe), not a quiet SIGPIPE', async () => {
    const r = await bash('node "$0" --root "$1" save apa000ex22 | head -c 100 > /dev/null; exit ${PIPESTATUS[0]}');
    expectOneLineError(r, 'Error: failed to save image: write /dev/stdout: broken pipe');
  });

  it('the same with stderr closed too: exit 1, nothing else to say', async () => {
    const r = await bash('node "$0" --root "$1" save apa000ex22 2>&- | head -c 100 > /dev/null; exit ${PIPESTATUS[0]}');
    expect([r.code, r.stderr]).toEqual([1, '']);
  });

  it('text output into a full disk (images > /dev/full): one line, exit 1', async () => {
    const r = await bash('node "$0" --root "$1" images > /dev/full');
    expectOneLineError(r, 'Error: write /dev/stdout: no space left on device');
  });
});

describe('load reads an archive up to its end-of-archive marker', () => {
  it('load -i /dev/zero ends (an empty archive), one line, store unchanged', async () => {
    const r = await storeUnchanged(() => runCli(['load', '-i', '/dev/zero'], { root, timeoutMs: 20_000 }));
    expectOneLineError(r, 'invalid archive: it contains no files');
  });

  it('load < /dev/zero the same', async () => {
    const r = await storeUnchanged(() => bash('node "$0" --root "$1" load < /dev/zero'));
    expectOneLineError(r, 'invalid archive: it contains no files');
  });
});

const file = (name: string, content = `${name}\n`): TarEntry => ({ header: { name, mode: 0o644 }, data: Buffer.from(content) });
const dir = (name: string): TarEntry => ({ header: { name, type: 'directory', mode: 0o755 }, data: Buffer.alloc(0) });
const hardlink = (name: string, linkname: string): TarEntry => ({ header: { name, type: 'link', linkname }, data: Buffer.alloc(0) });
const softlink = (name: string, linkname: string): TarEntry => ({ header: { name, type: 'symlink', linkname }, data: Buffer.alloc(0) });

/** Imports a tarball made of `entries` (from a file) as `name`. */
async function importTar(entries: TarEntry[], name: string): Promise<Awaited<ReturnType<typeof runCli>>> {
  const path = join(sandbox, `${name.replace(/\W/g, '_')}.tar`);
  await writeFile(path, await packTar(entries));
  return runCli(['import', path, name], { root });
}

describe('import refuses tarballs whose names or links leave the layer (store unchanged)', () => {
  const cases: Array<[string, TarEntry[], string]> = [
    ['a ../evil name', [file('ok'), file('../evil')], 'invalid tar entry "../evil": the path is outside of the layer'],
    ['a ./a/../../b name', [file('./a/../../b')], 'invalid tar entry "./a/../../b": the path is outside of the layer'],
    ['a hard link to /etc/shadow (not in the layer)', [file('etc/passwd'), hardlink('shadow', '/etc/shadow')], 'invalid hardlink "shadow" -> "/etc/shadow": the target is not a file in this layer'],
    ['a hard link to ../x', [hardlink('x', '../x')], 'invalid hardlink "x" -> "../x": the target is outside of the layer'],
    ['a hard link to a directory', [dir('etc/'), hardlink('x', 'etc')], 'invalid hardlink "x" -> "etc": the target is a directory'],
    ['a write through a symlink (link -> /etc, then link/passwd)', [softlink('link', '/etc'), file('link/passwd', 'root::0:0::/:/bin/sh\n')], 'invalid tar entry "link/passwd": its parent "link" is a symbolic link in this layer'],
    ['a write through a nested symlink (a/l -> /, then a/l/etc/x)', [dir('a/'), softlink('a/l', '/'), file('a/l/etc/x')], 'invalid tar entry "a/l/etc/x": its parent "a/l" is a symbolic link in this layer'],
  ];
  it.each(cases)('%s', async (_what, entries, message) => {
    const r = await storeUnchanged(() => importTar(entries, 'hostile:1'));
    expectOneLineError(r, message);
  });

  it('the same from stdin (import -)', async () => {
    const input = await packTar([softlink('link', '/etc'), file('link/passwd')]);
    const r = await storeUnchanged(() => runCli(['import', '-', 'hostile:stdin'], { root, input }));
    expectOneLineError(r, 'its parent "link" is a symbolic link in this layer');
  });
});

describe('import normalizes names as docker applies a layer', () => {
  it('absolute, ./ and unclean names become relative and clean; links keep working; the diff_id is the stored tar', async () => {
    const entries = [
      dir('./'),
      dir('./etc/'),
      file('/etc/passwd', 'root:x:0:0::/root:/bin/sh\n'),
      file('./etc//hosts', '127.0.0.1 localhost\n'),
      file('usr/./lib/../share/doc', 'doc\n'),
      file('/../../escapes-to-root', 'clamped, as Go clean("/../x") is /x\n'),
      hardlink('etc/passwd-hard', '/etc/passwd'),
      hardlink('etc/hosts-hard', './etc/hosts'),
      softlink('etc/abs-link', '/etc/passwd'),
      softlink('up-link', '../../outside'),
    ];
    const r = await importTar(entries, 'normalized:1');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const [layer] = await layersOf(root, 'docker.io/library/normalized:1');
    const tar = gunzipSync(await readFile(join(root, 'blobs', 'sha256', layer!.digest.slice(7))));
    const got = (await readTar(tar)).map((e) => [e.header.type, e.header.name, e.header.linkname ?? null, e.data.toString()]);
    expect(got).toEqual([
      ['directory', 'etc/', null, ''],
      ['file', 'etc/passwd', null, 'root:x:0:0::/root:/bin/sh\n'],
      ['file', 'etc/hosts', null, '127.0.0.1 localhost\n'],
      ['file', 'usr/share/doc', null, 'doc\n'],
      ['file', 'escapes-to-root', null, 'clamped, as Go clean("/../x") is /x\n'],
      ['link', 'etc/passwd-hard', 'etc/passwd', ''],
      ['link', 'etc/hosts-hard', 'etc/hosts', ''],
      // Symlink targets are data: kept as written (docker keeps absolute ones; they resolve inside the container).
      ['symlink', 'etc/abs-link', '/etc/passwd', ''],
      ['symlink', 'up-link', '../../outside', ''],
    ]);
    const config = await configOf(root, 'docker.io/library/normalized:1');
    expect(config.rootfs?.diff_ids).toEqual([`sha256:${createHash('sha256').update(tar).digest('hex')}`]);
  });

  it('a symlink replaced by a directory may be written into again', async () => {
    const r = await importTar([softlink('d', '/etc'), dir('d/'), file('d/x')], 'replaced:1');
    expect([r.code, r.stderr]).toEqual([0, '']);
  });
});

