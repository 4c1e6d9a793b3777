// `tag`: by name, full ID, bare hex, unique prefix; digests refused; re-pointing a name.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  expectExit,
  expectOneLineError,
  idFromStore,
  importDir,
  listBlobs,
  loadFixture,
  makeRoot,
  manifestDigestFromStore,
  namesInStore,
  parseTable,
  readIndex,
  runCli,
  runOk,
  short,
  snapshotTree,
} from '../helpers/cli.js';

let root: string;
let id: string;

beforeEach(async () => {
  root = await makeRoot();
  id = await loadFixture(root);
});

const FIXTURE = 'docker.io/library/apa000ex22:latest';

async function expectTagged(source: string, target: string, stored: string): Promise<void> {
  const blobs = await listBlobs(root);
  const r = await runCli(['tag', source, target], { root });
  expectExit(r, 0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe('');
  expect(await namesInStore(root)).toContain(stored);
  expect(await idFromStore(root, stored)).toBe(id);
  // Tagging adds an index entry pointing at the same manifest: no blob is written.
  expect(await manifestDigestFromStore(root, stored)).toBe(await manifestDigestFromStore(root, FIXTURE));
  expect(await listBlobs(root)).toEqual(blobs);
}

describe('tag', () => {
  it('by name, storing the full reference', async () => {
    await expectTagged('apa000ex22', 'zoozoo.coomm/nyapacchi:13', 'zoozoo.coomm/nyapacchi:13');
    await expectTagged('apa000ex22:latest', 'someone/repo', 'docker.io/someone/repo:latest');
    await expectTagged('docker.io/library/apa000ex22:latest', 'plain', 'docker.io/library/plain:latest');
    await expectTagged('zoozoo.coomm/nyapacchi:13', 'localhost:5000/a/b/c:v1.0', 'localhost:5000/a/b/c:v1.0');
    const t = parseTable((await runOk(['images'], { root })).stdout);
    expect(t.rows.map((r) => `${r[0]}:${r[1]}`).sort()).toEqual([
      'apa000ex22:latest',
      'localhost:5000/a/b/c:v1.0',
      'plain:latest',
      'someone/repo:latest',
      'zoozoo.coomm/nyapacchi:13',
    ]);
    expect(new Set(t.rows.map((r) => r[2]))).toEqual(new Set([short(id)]));
  });

  it('by full ID sha256:<hex>', async () => {
    await expectTagged(id, 'byid:1', 'docker.io/library/byid:1');
  });

  it('by bare 64-hex ID', async () => {
    await expectTagged(id.slice(7), 'byhex:1', 'docker.io/library/byhex:1');
  });

  it('by unique ID prefix', async () => {
    await expectTagged(short(id), 'byshort:1', 'docker.io/library/byshort:1');
    await expectTagged(id.slice(7, 12), 'byprefix:1', 'docker.io/library/byprefix:1');
  });

  it('the same tag twice keeps one index entry', async () => {
    await runOk(['tag', 'apa000ex22', 'twice:1'], { root });
    const before = await snapshotTree(root);
    await runOk(['tag', 'apa000ex22', 'twice:1'], { root });
    const names = ((await readIndex(root)).manifests ?? []).map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
    expect(names.filter((n) => n === 'docker.io/library/twice:1')).toHaveLength(1);
    expect(await namesInStore(root)).toEqual(['docker.io/library/apa000ex22:latest', 'docker.io/library/twice:1']);
    expect([...(await snapshotTree(root)).keys()]).toEqual([...before.keys()]);
  });

  it('refuses a digest target', async () => {
    const before = await snapshotTree(root);
    const r = await runCli(['tag', 'apa000ex22', `x@sha256:${'a'.repeat(64)}`], { root });
    expectOneLineError(r, 'refusing to create a tag with a digest reference');
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('onto an existing name of another image re-points it; the old image becomes dangling', async () => {
    const other = await importDir(root, 'another image', 'other:1');
    const r = await runCli(['tag', 'other:1', 'apa000ex22'], { root });
    expectExit(r, 0);
    expect(r.stdout).toBe('');
    expect(await idFromStore(root, FIXTURE)).toBe(other);
    expect(await namesInStore(root)).toEqual(['docker.io/library/apa000ex22:latest', 'docker.io/library/other:1']);
    const rows = parseTable((await runOk(['images'], { root })).stdout).rows.map((x) => x.slice(0, 3));
    expect(rows).toContainEqual(['<none>', '<none>', short(id)]);
    expect(rows).toContainEqual(['apa000ex22', 'latest', short(other)]);
    expect(rows).toContainEqual(['other', '1', short(other)]);
    expect(rows).toHaveLength(3);
  });

  it('image tag is the same command', async () => {
    const r = await runCli(['image', 'tag', 'apa000ex22', 'via-image:1'], { root });
    expectExit(r, 0);
    expect(await namesInStore(root)).toContain('docker.io/library/via-image:1');
  });
});
