// `rmi`: untag by name, delete with the last name, docker's conflict for IDs with several names, -f.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  expectExit,
  expectOneLineError,
  importDir,
  lines,
  listBlobs,
  loadFixture,
  makeRoot,
  makeRootfsDir,
  namesInStore,
  readIndex,
  runCli,
  runOk,
  short,
  snapshotTree,
} from '../helpers/cli.js';
import { checkLayout } from '../helpers/layout.js';

let root: string;
let id: string;

beforeEach(async () => {
  root = await makeRoot();
  id = await loadFixture(root);
});

const clean = { missing: [], corrupt: [], unreferenced: [] };

describe('rmi', () => {
  it('by name untags and keeps the image while another name holds it', async () => {
    await runOk(['tag', 'apa000ex22', 'x:1'], { root });
    const blobs = await listBlobs(root);
    const r = await runCli(['rmi', 'x:1'], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Untagged: x:1\n');
    expect(r.stderr).toBe('');
    expect(await namesInStore(root)).toEqual(['docker.io/library/apa000ex22:latest']);
    expect(await listBlobs(root)).toEqual(blobs);
    expect(await checkLayout(root)).toMatchObject(clean);
  });

  it('the last name deletes the image and its blobs', async () => {
    const r = await runCli(['rmi', 'apa000ex22'], { root });
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('Untagged: apa000ex22:latest');
    expect(out).toContain(`Deleted: ${id}`);
    expect(await listBlobs(root)).toEqual([]);
    expect((await readIndex(root)).manifests).toEqual([]);
  });

  it('by ID of an image with one name untags and deletes it', async () => {
    const r = await runCli(['rmi', short(id)], { root });
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out).toContain('Untagged: apa000ex22:latest');
    expect(out).toContain(`Deleted: ${id}`);
    expect(await listBlobs(root)).toEqual([]);
  });

  for (const [label, arg] of [
    ['full ID', (i: string) => i],
    ['bare 64 hex', (i: string) => i.slice(7)],
    ['12-hex ID', (i: string) => short(i)],
    ['unique 4-hex prefix', (i: string) => i.slice(7, 11)],
  ] as const) {
    it(`by ${label} of an image with several names refuses (must be forced) and changes nothing`, async () => {
      await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
      const before = await snapshotTree(root);
      const r = await runCli(['rmi', arg(id)], { root });
      expectOneLineError(r, `conflict: unable to delete ${short(id)} (must be forced) - image is referenced in multiple repositories`);
      expect(r.stdout).toBe('');
      expect(await snapshotTree(root)).toEqual(before);
    });
  }

  it('-f by ID untags every name and deletes the image', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const r = await runCli(['rmi', '-f', short(id)], { root });
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out.filter((l) => l.startsWith('Untagged: ')).sort()).toEqual(['Untagged: apa000ex22:latest', 'Untagged: zoozoo.coomm/nyapacchi:13']);
    expect(out).toContain(`Deleted: ${id}`);
    expect(out.indexOf(`Deleted: ${id}`)).toBeGreaterThan(out.indexOf('Untagged: apa000ex22:latest'));
    expect(await listBlobs(root)).toEqual([]);
    expect((await readIndex(root)).manifests).toEqual([]);
  });

  it('by ID removes every manifest with that image ID: refused while two names hold them, -f untags both and deletes all', async () => {
    // The same image under a second manifest (one more annotation, so another digest; as when one
    // copy came as docker v2 and one as OCI): `images` shows one IMAGE ID on two rows.
    const index = await readIndex(root);
    const entry = index.manifests![0]!;
    const manifest = JSON.parse(await readFile(join(root, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as Record<string, unknown>;
    const copy = Buffer.from(JSON.stringify({ ...manifest, annotations: { 'org.example.copy': '1' } }));
    const hex = createHash('sha256').update(copy).digest('hex');
    await writeFile(join(root, 'blobs', 'sha256', hex), copy);
    index.manifests!.push({ ...entry, digest: `sha256:${hex}`, size: copy.length, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/copy:1' } });
    await writeFile(join(root, 'index.json'), JSON.stringify(index));
    const rows = lines((await runOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root })).stdout).sort();
    expect(rows).toEqual([`apa000ex22:latest ${short(id)}`, `copy:1 ${short(id)}`]);

    const before = await snapshotTree(root);
    const refused = await runCli(['rmi', short(id)], { root });
    expectOneLineError(refused, `conflict: unable to delete ${short(id)} (must be forced) - image is referenced in multiple repositories`);
    expect(await snapshotTree(root)).toEqual(before);

    const r = await runCli(['rmi', '-f', short(id)], { root });
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(['Untagged: apa000ex22:latest', 'Untagged: copy:1', `Deleted: ${id}`]);
    expect(await listBlobs(root)).toEqual([]);
    expect((await readIndex(root)).manifests).toEqual([]);
    expect((await runOk(['images', '-q'], { root })).stdout).toBe('');
  });

  it('an unknown name fails with "No such image: foo:latest" and changes nothing', async () => {
    const before = await snapshotTree(root);
    const r = await runCli(['rmi', 'foo'], { root });
    expectOneLineError(r, 'No such image: foo:latest');
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('with several arguments, one failing does not stop the others; exit code 1', async () => {
    await runOk(['tag', 'apa000ex22', 'x:1'], { root });
    await runOk(['tag', 'apa000ex22', 'y:1'], { root });
    const r = await runCli(['rmi', 'x:1', 'nosuch', 'y:1'], { root });
    expectExit(r, 1);
    expect(lines(r.stdout)).toEqual(['Untagged: x:1', 'Untagged: y:1']);
    expect(r.stderr).toContain('No such image: nosuch:latest');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await namesInStore(root)).toEqual(['docker.io/library/apa000ex22:latest']);
  });

  it('deleting one image keeps the blobs it shares with another', async () => {
    // Two imports of the same directory: the same layer blob, two configs, two images.
    const dir = await makeRootfsDir({ 'etc/shared.txt': 'same bytes\n' });
    const a = (await runOk(['import', dir, 'shared:a'], { root })).stdout.trim();
    const b = (await runOk(['import', '-m', 'second', dir, 'shared:b'], { root })).stdout.trim();
    expect(a).not.toBe(b);
    const r = await runCli(['rmi', 'shared:a'], { root });
    expectExit(r, 0);
    expect(lines(r.stdout)).toContain(`Deleted: ${a}`);
    expect(await checkLayout(root)).toMatchObject(clean);
    expect((await runCli(['inspect', 'shared:b'], { root })).code).toBe(0);
  });

  it('deleting an image leaves every other image whole', async () => {
    const other = await importDir(root, 'other image', 'other:1');
    await runOk(['rmi', 'apa000ex22'], { root });
    expect(await namesInStore(root)).toEqual(['docker.io/library/other:1']);
    expect(await checkLayout(root)).toMatchObject(clean);
    expect(lines((await runOk(['images', '-q', '--no-trunc'], { root })).stdout)).toEqual([other]);
  });

  it('image rm is the same command', async () => {
    await runOk(['tag', 'apa000ex22', 'x:1'], { root });
    const r = await runCli(['image', 'rm', 'x:1'], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Untagged: x:1\n');
  });
});
