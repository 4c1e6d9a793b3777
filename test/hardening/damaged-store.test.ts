// Issue 12 item 6 (store side): one damaged or incomplete image (a missing blob, a config or a
// manifest that is not JSON) never takes the store down. `images` lists it marked, with one warning
// line naming it and the remedy; `info` counts it; `rmi`, `rmi -f`, `rmi ID` and `image prune`
// remove it and collect its blobs; `inspect` and `save` of it fail with one line naming it, while
// the other images of the store work as before.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { reachable } from '../../src/store/gc.js';
import { Store } from '../../src/store/store.js';
import type { RunResult } from '../helpers/cli.js';
import {
  expectExit,
  expectOneLineError,
  importDir,
  lines,
  listBlobs,
  loadFixture,
  makeRoot,
  makeSandbox,
  namesInStore,
  parseTable,
  readIndex,
  runCli,
  short,
  snapshotTree,
} from '../helpers/cli.js';
import { checkLayout } from '../helpers/layout.js';

const FIXTURE = 'docker.io/library/apa000ex22:latest';
const REF = 'org.opencontainers.image.ref.name';

let root: string;
/** The good image beside the damaged one. */
let goodId: string;

beforeEach(async () => {
  root = await makeRoot();
  await loadFixture(root);
  goodId = await importDir(root, 'good', 'good:1');
});

const blobPath = (digest: string): string => join(root, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Manifest { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> }

async function fixtureManifest(): Promise<{ digest: string; manifest: Manifest }> {
  const entry = (await readIndex(root)).manifests!.find((m) => m.annotations?.[REF] === FIXTURE)!;
  return { digest: entry.digest, manifest: JSON.parse(await readFile(blobPath(entry.digest), 'utf8')) as Manifest };
}

/** Writes `bytes` as a blob and points the fixture's name at a manifest (written too) whose config is it. */
async function repointConfig(bytes: Buffer): Promise<string> {
  const { manifest } = await fixtureManifest();
  await writeFile(blobPath(sha(bytes)), bytes);
  manifest.config = { ...manifest.config, digest: sha(bytes), size: bytes.length };
  return repointManifest(Buffer.from(JSON.stringify(manifest)));
}

/** Writes manifest `bytes` as a blob and points the fixture's name at it. */
async function repointManifest(bytes: Buffer): Promise<string> {
  const digest = sha(bytes);
  await writeFile(blobPath(digest), bytes);
  const indexPath = join(root, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as { manifests: Array<{ digest: string; size: number; annotations?: Record<string, string> }> };
  const entry = index.manifests.find((m) => m.annotations?.[REF] === FIXTURE)!;
  entry.digest = digest;
  entry.size = bytes.length;
  await writeFile(indexPath, JSON.stringify(index));
  return digest;
}

/** The three damages of the issue, each making the fixture's image damaged; returns the reason text. */
const DAMAGES: Array<[string, () => Promise<string>]> = [
  ['a missing layer blob', async () => {
    const { manifest } = await fixtureManifest();
    await rm(blobPath(manifest.layers[0]!.digest));
    return `blob ${manifest.layers[0]!.digest} is missing`;
  }],
  ['a config that is not JSON', async () => {
    const bytes = Buffer.from('this is <html> not a config\n');
    await repointConfig(bytes);
    return `config ${sha(bytes)} is not valid JSON`;
  }],
  ['a missing manifest blob', async () => {
    const { digest } = await fixtureManifest();
    await rm(blobPath(digest));
    return `blob ${digest} is missing`;
  }],
  ['a manifest that is not JSON', async () => {
    const bytes = Buffer.from('{"schemaVersion": 2, "config": ');
    await repointManifest(bytes);
    return `manifest ${sha(bytes)} is not valid JSON`;
  }],
];

function expectNoRaw(r: RunResult): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/SyntaxError|ENOENT|TypeError/);
}

/**
 * After removing the damaged image: nothing of it is left but blobs the fixture had before the
 * damage that the repointing (config and manifest cases) had already left unreferenced.
 */
async function expectCollected(original: string[], what: string): Promise<void> {
  const report = await checkLayout(root);
  expect(report).toMatchObject({ missing: [], corrupt: [] });
  expect((await listBlobs(root)).filter((h) => !original.includes(h)), 'the damaged image\'s own blobs are collected').toEqual([]);
  if (what === 'a missing layer blob') expect(report.unreferenced).toEqual([]);
  else expect(report.unreferenced.every((h) => original.includes(h))).toBe(true);
}

describe.each(DAMAGES)('a store with %s', (what, damage) => {
  it('images lists it marked, with one warning naming it and the remedy; exit 0; the good image is listed as before', async () => {
    // Listed once while sound, so the summaries sidecar knows it: that must not hide the damage.
    expectExit(await runCli(['images'], { root }), 0);
    const reason = await damage();
    const r = await runCli(['images'], { root });
    expectExit(r, 0);
    expectNoRaw(r);
    expect(lines(r.stderr)).toEqual([`WARNING: image apa000ex22:latest is damaged (${reason}); remove it with: ts-docker rmi apa000ex22:latest`]);
    const { header, rows } = parseTable(r.stdout);
    expect(header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    const bad = rows.find((row) => row[0] === 'apa000ex22')!;
    expect(bad.slice(3)).toEqual(['N/A', 'N/A']);
    expect(bad[2]).toMatch(/^[0-9a-f]{12}$/);
    expect(rows.find((row) => row[0] === 'good')?.[2]).toBe(short(goodId));
    // -q (for `rmi $(ts-docker images -q)`) lists it too, the warning stays on stderr.
    const q = await runCli(['images', '-q'], { root });
    expectExit(q, 0);
    expect(lines(q.stdout)).toEqual(expect.arrayContaining([bad[2], short(goodId)]));
    expect(lines(q.stderr)).toHaveLength(1);
  });

  it('info counts it; inspect and save of it fail with one line naming it, store unchanged; the good image still inspects and saves', async () => {
    const reason = await damage();
    const i = await runCli(['info'], { root });
    expectExit(i, 0);
    expect(i.stdout).toContain(' Images:         2\n');
    expect(i.stdout).toMatch(/ Damaged: {8}1 /);
    expect((await runCli(['info', '--format', '{{.damaged}}'], { root })).stdout).toBe('1\n');

    await runCli(['images'], { root });
    const before = await snapshotTree(root);
    const ins = await runCli(['inspect', 'apa000ex22'], { root });
    expectOneLineError(ins, `image apa000ex22:latest is damaged: ${reason}; remove it with: ts-docker rmi apa000ex22:latest`);
    expect(ins.stdout).toBe('[]\n');
    const both = await runCli(['inspect', '--format', '{{.Id}}', 'good:1', 'apa000ex22'], { root });
    expectOneLineError(both, 'image apa000ex22:latest is damaged');
    expect(both.stdout).toBe(`${goodId}\n`);

    const out = join(await makeSandbox(), 'x.tar');
    const s = await runCli(['save', '-o', out, 'apa000ex22'], { root });
    expectOneLineError(s, `image apa000ex22:latest is damaged: ${reason}`);
    expect(await snapshotTree(root)).toEqual(before);
    const good = await runCli(['save', '-o', out, 'good:1'], { root });
    expectExit(good, 0);
    expect((await readFile(out)).length).toBeGreaterThan(1024);
  });

  it('save of a repository with one damaged tag and push of the damaged image fail naming it, never "does not exist"', async () => {
    const reason = await damage();
    // A second, sound tag of the same repository: `save apa000ex22` must not quietly leave the damaged one out.
    expectExit(await runCli(['tag', 'good:1', 'apa000ex22:sound'], { root }), 0);
    const before = await snapshotTree(root);
    const out = join(await makeSandbox(), 'repo.tar');
    const s = await runCli(['save', '-o', out, 'apa000ex22'], { root });
    expectOneLineError(s, `image apa000ex22:latest is damaged: ${reason}`);
    // Nothing is named at a registry before the image is read: no registry is needed for the refusal.
    const p = await runCli(['push', 'apa000ex22'], { root });
    expectOneLineError(p, `image apa000ex22:latest is damaged: ${reason}`);
    expect(p.stderr).not.toContain('does not exist locally');
    expectNoRaw(p);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it('rmi NAME removes it and collects its blobs; the good image stays whole', async () => {
    const original = await listBlobs(root);
    await damage();
    const r = await runCli(['rmi', 'apa000ex22'], { root });
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)[0]).toBe('Untagged: apa000ex22:latest');
    expect(lines(r.stdout)[1]).toMatch(/^Deleted: sha256:[0-9a-f]{64}$/);
    expect(await namesInStore(root)).toEqual(['docker.io/library/good:1']);
    await expectCollected(original, what);
    const again = await runCli(['images'], { root });
    expect(again.stderr).toBe('');
  });

  it('rmi ID refuses it with two names (docker\'s conflict), rmi -f ID removes it with every name', async () => {
    const original = await listBlobs(root);
    await damage();
    // A second name, written as tag would write it (tag itself refuses to name a damaged image).
    const indexPath = join(root, 'index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    const entry = index.manifests.find((m) => m.annotations?.[REF] === FIXTURE)!;
    index.manifests.push({ ...entry, annotations: { [REF]: 'docker.io/library/second:1' } });
    await writeFile(indexPath, JSON.stringify(index));
    const listing = await runCli(['images', 'apa000ex22'], { root });
    expect(lines(listing.stderr)).toEqual([expect.stringMatching(/remove it with: ts-docker rmi -f [0-9a-f]{12}$/)]);
    const id = parseTable(listing.stdout).rows[0]![2]!;
    const tag = await runCli(['tag', 'apa000ex22', 'third:1'], { root });
    expectOneLineError(tag, 'image apa000ex22:latest is damaged');
    const plain = await runCli(['rmi', id], { root });
    expectOneLineError(plain, `conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`);
    const forced = await runCli(['rmi', '-f', id], { root });
    expectExit(forced, 0);
    expect(forced.stdout).toMatch(/^Untagged: apa000ex22:latest\nUntagged: second:1\nDeleted: sha256:[0-9a-f]{64}\n$/);
    expect(await namesInStore(root)).toEqual(['docker.io/library/good:1']);
    await expectCollected(original, what);
  });

  it('image prune -a removes it (and the good one); nothing is left', async () => {
    await damage();
    const r = await runCli(['image', 'prune', '-a', '-f'], { root });
    expectExit(r, 0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('untagged: apa000ex22:latest\n');
    expect(r.stdout).toMatch(/Total reclaimed space: \d/);
    expect(await namesInStore(root)).toEqual([]);
    expect(await listBlobs(root)).toEqual([]);
  });
});

describe('a damaged dangling image', () => {
  it('image prune (dangling only) removes it and its blobs, and keeps the named images', async () => {
    // The fixture's image made dangling by pointing its name elsewhere, then damaged.
    const { manifest } = await fixtureManifest();
    expectExit(await runCli(['tag', 'good:1', 'apa000ex22'], { root }), 0);
    await rm(blobPath(manifest.layers[0]!.digest));
    const listing = await runCli(['images'], { root });
    expect(lines(listing.stderr)).toEqual([expect.stringMatching(/^WARNING: image [0-9a-f]{12} is damaged \(blob sha256:[0-9a-f]{64} is missing\); remove it with: ts-docker rmi [0-9a-f]{12}$/)]);
    const r = await runCli(['image', 'prune', '-f'], { root });
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: /);
    expect((await namesInStore(root)).sort()).toEqual(['docker.io/library/apa000ex22:latest', 'docker.io/library/good:1']);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
  });
});

describe('garbage collection with an unparsable manifest', () => {
  it('reaches nothing through it, never throws, and keeps every blob a parsable manifest reaches', async () => {
    const good = (await readIndex(root)).manifests!.find((m) => m.annotations?.[REF] === 'docker.io/library/good:1')!;
    await repointManifest(Buffer.from('not json at all'));
    const store = await Store.open(root);
    const index = await store.readIndex();
    const keep = await reachable(store.blobs, index.manifests);
    const goodManifest = JSON.parse(await readFile(blobPath(good.digest), 'utf8')) as Manifest;
    for (const d of [good.digest, goodManifest.config.digest, ...goodManifest.layers.map((l) => l.digest)]) expect(keep.has(d as `sha256:${string}`)).toBe(true);
    const all = await store.storedImages(index);
    expect(all.map((r) => r.damaged ?? 'ok').sort()).toEqual([expect.stringMatching(/^manifest sha256:[0-9a-f]{64} is not valid JSON$/), 'ok']);
    // Neither `images` nor `find` caches or throws on it.
    await expect(store.find('apa000ex22')).rejects.toThrow(/^image apa000ex22:latest is damaged: manifest sha256:[0-9a-f]{64} is not valid JSON; remove it with: ts-docker rmi apa000ex22:latest$/);
    const summaries = await store.summaries(index);
    expect(summaries.filter((s) => s.damaged !== undefined)).toHaveLength(1);
    const sidecar = JSON.parse(await readFile(join(root, 'cache', 'image-summaries.json'), 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(sidecar.entries)).toEqual([good.digest]);
  });
});
