// The test helpers, tested on their own against archives made by skopeo and umoci (not by ts-docker).
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { corruptLayer, layerMembers, readTar, rootfsTar, sha256Hex, truncateHalf, withExtraMember } from './archive.js';
import { expectExit, lines, makeRoot, makeSandbox, parseTable, requireTool, runCli, sh, snapshotTree, CREATED_SINCE } from './cli.js';
import { skopeoCopy, tarList, umociImage } from './peer.js';

describe('requireTool', () => {
  it('finds installed tools', async () => {
    expect(await requireTool('skopeo')).toMatch(/skopeo$/);
    expect(await requireTool('oci-image-tool')).toMatch(/oci-image-tool$/);
  });
  it('fails loudly, naming the package, when a tool is missing', async () => {
    await expect(requireTool('no-such-tool-4711')).rejects.toThrow('missing tool no-such-tool-4711: run apt-get install -y no-such-tool-4711');
  });
});

describe('snapshotTree', () => {
  it('is equal for an untouched tree and differs on any byte, new file or removal', async () => {
    const root = await makeRoot();
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(root, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    await writeFile(join(root, 'blobs', 'sha256', 'aa'), 'hello');
    const before = await snapshotTree(root);
    expect([...before.keys()]).toEqual(['blobs/sha256/aa', 'index.json']);
    expect(before.get('blobs/sha256/aa')).toBe(sha256Hex(Buffer.from('hello')));
    expect(await snapshotTree(root)).toEqual(before);

    await appendFile(join(root, 'blobs', 'sha256', 'aa'), '!');
    expect(await snapshotTree(root)).not.toEqual(before);
    await writeFile(join(root, 'blobs', 'sha256', 'aa'), 'hello');
    expect(await snapshotTree(root)).toEqual(before);

    await writeFile(join(root, 'tmp-leftover'), '');
    expect(await snapshotTree(root)).not.toEqual(before);
  });
  it('gives an empty map for a missing directory', async () => {
    expect((await snapshotTree(join(await makeSandbox(), 'nope'))).size).toBe(0);
  });
});

describe('sh', () => {
  it('captures output and exit codes without throwing', async () => {
    const ok = await sh('bash', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(ok).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const stdin = await sh('cat', [], { input: 'piped' });
    expect(stdin.stdout).toBe('piped');
  });
});

describe('runCli', () => {
  it('runs the built CLI, passes --root, and never throws on a non-zero exit', async () => {
    const root = await makeRoot();
    const v = await runCli(['version'], { root });
    expectExit(v, 0);
    expect(v.stdout).not.toBe('');
    const bad = await runCli(['no-such-command-4711'], { root });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).not.toBe('');
  });
});

describe('table and text helpers', () => {
  it('splits docker tables on 2+ spaces', () => {
    const t = parseTable('REPOSITORY   TAG       IMAGE ID       CREATED        SIZE\napa000ex22   latest    0123456789ab   2 years ago    1.2MB\n');
    expect(t.header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(t.rows).toEqual([['apa000ex22', 'latest', '0123456789ab', '2 years ago', '1.2MB']]);
    expect(lines('a\n\nb\n')).toEqual(['a', 'b']);
  });
  it('knows docker humanized durations', () => {
    for (const ok of ['Less than a second ago', '1 second ago', '5 seconds ago', 'About a minute ago', '3 minutes ago', 'About an hour ago', '5 hours ago', '3 days ago', '2 weeks ago', '7 months ago', '2 years ago']) {
      expect(ok).toMatch(CREATED_SINCE);
    }
    for (const bad of ['2 years', 'about a minute ago', '2024-01-01', '']) expect(bad).not.toMatch(CREATED_SINCE);
  });
});

describe('tar surgery on skopeo-made archives', () => {
  let dir: string;
  let dockerArchive: string;
  let ociArchive: string;

  beforeAll(async () => {
    dir = await makeSandbox();
    const src = await umociImage(dir);
    dockerArchive = join(dir, 'docker.tar');
    ociArchive = join(dir, 'oci.tar');
    await skopeoCopy(src, `docker-archive:${dockerArchive}:made/by-skopeo:1`);
    await skopeoCopy(src, `oci-archive:${ociArchive}:made/by-skopeo:1`);
  });

  it('reads every member', async () => {
    const names = (await readTar(dockerArchive)).map((e) => e.header.name).sort();
    expect(names).toEqual((await tarList(dockerArchive)).sort());
    expect(names).toContain('manifest.json');
  });

  it('finds the layers from manifest.json and from index.json', async () => {
    const docker = layerMembers(await readTar(dockerArchive));
    expect(docker.length).toBe(2);
    const oci = layerMembers(await readTar(ociArchive));
    expect(oci.length).toBe(2);
    for (const l of oci) expect(l).toMatch(/^blobs\/sha256\/[0-9a-f]{64}$/);
  });

  it('corrupts exactly one byte of one layer, so it no longer matches its digest', async () => {
    for (const src of [dockerArchive, ociArchive]) {
      const dst = `${src}.corrupt.tar`;
      const { member, offset } = await corruptLayer(src, dst);
      const before = new Map((await readTar(src)).map((e) => [e.header.name, e.data]));
      const after = await readTar(dst);
      expect(after.map((e) => e.header.name)).toEqual([...before.keys()]);
      let changed = 0;
      for (const e of after) {
        const old = before.get(e.header.name)!;
        if (!old.equals(e.data)) {
          changed++;
          expect(e.header.name.replace(/^\.\//, '')).toBe(member);
          expect(e.data.length).toBe(old.length);
          expect(e.data[offset]).not.toBe(old[offset]);
          // skopeo names both archive flavours' layers after their sha256.
          const hex = /([0-9a-f]{64})(\.tar)?$/.exec(member)?.[1];
          expect(hex).toBe(sha256Hex(old));
          expect(sha256Hex(e.data)).not.toBe(hex);
        }
      }
      expect(changed).toBe(1);
      // GNU tar still reads the rewritten archive.
      expect((await tarList(dst)).length).toBe(before.size);
    }
  });

  it('keeps hostile member names verbatim', async () => {
    for (const name of ['../evil', '/abs/evil']) {
      const dst = join(dir, `evil-${name.length}.tar`);
      await withExtraMember(dockerArchive, dst, name);
      const entries = await readTar(dst);
      expect(entries[0]?.header.name).toBe(name);
      expect(existsSync(join(dir, '..', 'evil'))).toBe(false);
    }
  });

  it('truncates to half, which no longer reads as a whole tar', async () => {
    const dst = join(dir, 'half.tar');
    await truncateHalf(dockerArchive, dst);
    expect((await stat(dst)).size).toBe(Math.floor((await stat(dockerArchive)).size / 2));
    await expect(readTar(dst)).rejects.toThrow();
  });

  it('builds rootfs tarballs, plain and gzipped, that GNU tar lists', async () => {
    const plain = join(dir, 'rootfs.tar');
    const gz = join(dir, 'rootfs.tar.gz');
    await writeFile(plain, await rootfsTar({ 'etc/hostname': 'x\n', 'usr/share/a.txt': 'a' }));
    await writeFile(gz, await rootfsTar({ 'etc/hostname': 'x\n' }, { gzip: true }));
    expect((await tarList(plain)).sort()).toEqual(['etc/', 'etc/hostname', 'usr/', 'usr/share/', 'usr/share/a.txt']);
    expect((await readFile(gz)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(await tarList(gz)).toContain('etc/hostname');
  });
});
