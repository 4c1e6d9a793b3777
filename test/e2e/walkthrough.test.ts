// The seed's walkthrough, exactly as a reader types it: load, tag, images, rmi, rmi.
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_REF, SHORT_ID, CREATED_SINCE, expectExit, idFromStore, lines, listBlobs, makeRoot, parseTable, readIndex, requireFixture, runCli } from '../helpers/cli.js';
import { checkLayout } from '../helpers/layout.js';

describe('seed walkthrough: load, tag, images, rmi, rmi', () => {
  let root: string;
  let fullId: string;
  let blobsAfterLoad: string[];

  beforeAll(async () => {
    root = await makeRoot();
  });

  it('load -i fixtures/apa000ex22.tar prints "Loaded image: apa000ex22:latest"', async () => {
    const r = await runCli(['load', '-i', requireFixture()], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Loaded image: apa000ex22:latest\n');
    fullId = await idFromStore(root, FIXTURE_REF);
    blobsAfterLoad = await listBlobs(root);
    expect(blobsAfterLoad.length).toBeGreaterThanOrEqual(3); // manifest, config, at least one layer
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });

  it('tag apa000ex22 zoozoo.coomm/nyapacchi:13 prints nothing and copies no blob', async () => {
    const r = await runCli(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('');
    expect(await listBlobs(root)).toEqual(blobsAfterLoad);
  });

  it('images shows both names with the same IMAGE ID', async () => {
    const r = await runCli(['images'], { root });
    expectExit(r, 0);
    const first = r.stdout.split('\n')[0] ?? '';
    expect(first.startsWith('REPOSITORY')).toBe(true);
    const { header, rows } = parseTable(r.stdout);
    expect(header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(rows).toHaveLength(2);
    const byName = new Map(rows.map((row) => [`${row[0]}  ${row[1]}`, row]));
    const a = byName.get('apa000ex22  latest');
    const z = byName.get('zoozoo.coomm/nyapacchi  13');
    expect(a, r.stdout).toBeDefined();
    expect(z, r.stdout).toBeDefined();
    expect(a![2]).toMatch(SHORT_ID);
    expect(z![2]).toBe(a![2]);
    expect(a![2]).toBe(fullId.slice(7, 19));
    expect(a![3]).toMatch(CREATED_SINCE);
    expect(a![4]).toMatch(/^\d+(\.\d+)?(B|kB|MB|GB)$/);
    expect(z!.slice(3)).toEqual(a!.slice(3));
  });

  it('rmi apa000ex22 only untags: the image and its blobs stay', async () => {
    const r = await runCli(['rmi', 'apa000ex22'], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('Untagged: apa000ex22:latest\n');
    const q = await runCli(['images', '-q'], { root });
    expectExit(q, 0);
    expect(lines(q.stdout)).toEqual([fullId.slice(7, 19)]);
    expect(await listBlobs(root)).toEqual(blobsAfterLoad);
    const table = parseTable((await runCli(['images'], { root })).stdout);
    expect(table.rows.map((row) => `${row[0]}:${row[1]}`)).toEqual(['zoozoo.coomm/nyapacchi:13']);
  });

  it('rmi zoozoo.coomm/nyapacchi:13 untags the last name and deletes the image and every blob', async () => {
    const r = await runCli(['rmi', 'zoozoo.coomm/nyapacchi:13'], { root });
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('Untagged: zoozoo.coomm/nyapacchi:13');
    expect(out[1]).toMatch(/^Deleted: sha256:[0-9a-f]{64}$/);
    expect(out[1]).toBe(`Deleted: ${fullId}`);
    expect(out[1]!.slice('Deleted: sha256:'.length, 'Deleted: sha256:'.length + 12)).toBe(fullId.slice(7, 19));
    for (const extra of out.slice(2)) expect(extra).toMatch(/^Deleted: sha256:[0-9a-f]{64}$/);
    expect(await listBlobs(root)).toEqual([]);
    expect((await readIndex(root)).manifests).toEqual([]);
    const images = await runCli(['images'], { root });
    expectExit(images, 0);
    expect(parseTable(images.stdout).rows).toEqual([]);
  });
});
