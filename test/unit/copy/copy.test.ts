// The copy pipeline driven through in-memory endpoints: what it asks of a source and a
// destination (has / mount / put / putManifest / commit), in which order, with which typed
// progress states, and what it refuses before anything is written.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { copyImage, copyImages } from '../../../src/copy/copy.js';
import type { CopyEvent } from '../../../src/image/progress.js';
import { InvalidContentError } from '../../../src/errors.js';
import type { Descriptor } from '../../../src/image/descriptor.js';
import type { Digest } from '../../../src/image/digest.js';
import type { BlobInfo, BlobReader, CopiedImage, ImageDestination, ImageSource } from '../../../src/image/endpoint.js';

const sha = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Blobs and manifests by digest. */
class Memory {
  readonly blobs = new Map<string, Buffer>();
  add(b: Buffer, mediaType: string): Descriptor {
    this.blobs.set(sha(b), b);
    return { mediaType, digest: sha(b), size: b.length };
  }
}

/** A source over a Memory, counting what is read. */
class MemorySource implements ImageSource {
  reads: string[] = [];
  constructor(private readonly mem: Memory) {}
  async manifest(d: Descriptor): Promise<Buffer> {
    this.reads.push(`manifest ${d.digest}`);
    return this.mem.blobs.get(d.digest)!;
  }
  async blob(d: Descriptor, offset: number): Promise<{ stream: Readable; resumed: boolean }> {
    this.reads.push(`blob ${d.digest}@${offset}`);
    return { stream: Readable.from([this.mem.blobs.get(d.digest)!.subarray(offset)]), resumed: true };
  }
}

/** A destination into a Memory, logging every call. */
class MemoryDestination implements ImageDestination {
  readonly mem = new Memory();
  readonly calls: string[] = [];
  committed: CopiedImage[][] = [];
  names = new Map<string, string>();
  mountable = new Set<string>();
  current = new Map<string, string>();
  async has(d: Descriptor, info: BlobInfo): Promise<boolean> {
    this.calls.push(`has ${d.digest} ${info.layer ? 'layer' : 'blob'}`);
    return this.mem.blobs.has(d.digest);
  }
  async mount(d: Descriptor): Promise<string | undefined> {
    if (!this.mountable.has(d.digest)) return undefined;
    this.calls.push(`mount ${d.digest}`);
    return 'other/repo';
  }
  async put(d: Descriptor, read: BlobReader, progress: (n: number) => void): Promise<'transferred'> {
    this.calls.push(`put ${d.digest}`);
    const { stream } = await read(0);
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    const b = Buffer.concat(chunks);
    progress(b.length);
    expect(sha(b)).toBe(d.digest);
    this.mem.blobs.set(d.digest, b);
    return 'transferred';
  }
  async upToDate(root: Descriptor, names: string[]): Promise<boolean> {
    this.calls.push(`upToDate ${names.join(',')}`);
    return names.every((n) => this.current.get(n) === root.digest);
  }
  async putManifest(d: Descriptor, bytes: Buffer, names: string[]): Promise<void> {
    this.calls.push(`putManifest ${d.digest} [${names.join(',')}]`);
    this.mem.blobs.set(d.digest, bytes);
    for (const n of names) this.names.set(n, d.digest);
  }
  async commit(images: CopiedImage[]): Promise<boolean> {
    this.calls.push('commit');
    this.committed.push(images);
    return true;
  }
}

/** One platform's image: a config with one diff_id per layer, and its manifest. */
function image(mem: Memory, arch: string, layers: Buffer[]): { manifest: Descriptor; layers: Descriptor[]; config: Descriptor } {
  const ls = layers.map((l) => mem.add(l, LAYER));
  const config = mem.add(Buffer.from(JSON.stringify({
    architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(Buffer.concat([l, Buffer.from('u')]))) }, config: {},
  })), OCI_CONFIG);
  const manifest = mem.add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: ls })), OCI_MANIFEST);
  return { manifest: { ...manifest, platform: { architecture: arch, os: 'linux' } }, layers: ls, config };
}

function twoPlatforms(): { mem: Memory; index: Descriptor; amd: ReturnType<typeof image>; arm: ReturnType<typeof image> } {
  const mem = new Memory();
  const shared = Buffer.from('shared base layer');
  const amd = image(mem, 'amd64', [shared, Buffer.from('amd64 top')]);
  const arm = image(mem, 'arm64', [shared, Buffer.from('arm64 top')]);
  const index = mem.add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [amd.manifest, arm.manifest] })), OCI_INDEX);
  return { mem, index, amd, arm };
}

describe('copyImage', () => {
  it('copies every platform of an index: a shared layer once, children before the root, the root under its names, one commit', async () => {
    const { mem, index, amd, arm } = twoPlatforms();
    const dest = new MemoryDestination();
    const events: CopyEvent[] = [];
    const r = await copyImage(new MemorySource(mem), dest, { root: index, names: ['v1'] }, { concurrency: 2, onEvent: (e) => events.push(e) });
    expect(r).toMatchObject({ root: { digest: index.digest }, target: { digest: index.digest }, names: ['v1'], transferred: 3, upToDate: false, changed: true });
    expect([...dest.mem.blobs.keys()].sort()).toEqual([...mem.blobs.keys()].sort());
    expect(dest.calls.filter((c) => c.startsWith(`put ${amd.layers[0]!.digest}`))).toHaveLength(1);
    const manifests = dest.calls.filter((c) => c.startsWith('putManifest'));
    expect(manifests).toEqual([`putManifest ${amd.manifest.digest} []`, `putManifest ${arm.manifest.digest} []`, `putManifest ${index.digest} [v1]`]);
    expect(dest.calls.at(-1)).toBe('commit');
    expect(dest.committed).toEqual([[{ root: expect.objectContaining({ digest: index.digest }) as unknown, target: expect.objectContaining({ digest: index.digest }) as unknown, names: ['v1'] }]]);
    // Typed states for layers only (configs are not shown): waiting, transferring, done.
    const top = amd.layers[1]!.digest;
    expect(events.filter((e) => e.type === 'blob' && e.digest === top).map((e) => (e as { state: string }).state)).toEqual(['waiting', 'transferring', 'done']);
    expect(events.some((e) => e.type === 'blob' && e.digest === amd.config.digest)).toBe(false);
  });

  it('one platform of an index: only its blobs, its manifest is the image, the index is not written', async () => {
    const { mem, index, arm } = twoPlatforms();
    const dest = new MemoryDestination();
    const r = await copyImage(new MemorySource(mem), dest, { root: index, names: ['v1'] }, { concurrency: 1, platform: { os: 'linux', architecture: 'arm64' } });
    expect(r.target.digest).toBe(arm.manifest.digest);
    expect([...dest.mem.blobs.keys()].sort()).toEqual([arm.manifest.digest, arm.config.digest, ...arm.layers.map((l) => l.digest)].sort());
    expect(dest.names.get('v1')).toBe(arm.manifest.digest);
    await expect(copyImage(new MemorySource(mem), new MemoryDestination(), { root: index, names: [] }, { concurrency: 1, platform: { os: 'linux', architecture: 's390x' } }))
      .rejects.toThrow('no matching manifest for linux/s390x in the manifest list entries');
  });

  it('one platform with keepIndex: that platform\'s blobs and manifest, and the index as the image under the name', async () => {
    const { mem, index, arm, amd } = twoPlatforms();
    const dest = new MemoryDestination();
    const r = await copyImage(new MemorySource(mem), dest, { root: index, names: ['v1'] }, { concurrency: 1, platform: { os: 'linux', architecture: 'arm64' }, keepIndex: true });
    expect(r.target.digest).toBe(index.digest);
    expect(dest.names.get('v1')).toBe(index.digest);
    expect(dest.mem.blobs.has(arm.layers[1]!.digest)).toBe(true);
    expect(dest.mem.blobs.has(amd.layers[1]!.digest)).toBe(false);
    expect(dest.mem.blobs.has(amd.manifest.digest)).toBe(false);
  });

  it('skips what the destination has and mounts what it can mount: exists and mounted states, no put', async () => {
    const { mem, amd } = twoPlatforms();
    const dest = new MemoryDestination();
    dest.mem.blobs.set(amd.layers[0]!.digest, mem.blobs.get(amd.layers[0]!.digest)!);
    dest.mountable.add(amd.layers[1]!.digest);
    const events: CopyEvent[] = [];
    const r = await copyImage(new MemorySource(mem), dest, { root: amd.manifest, names: ['x'] }, { concurrency: 1, onEvent: (e) => events.push(e) });
    expect(r.transferred).toBe(0);
    expect(dest.calls.filter((c) => c.startsWith('put '))).toEqual([`put ${amd.config.digest}`]);
    expect(events).toContainEqual({ type: 'blob', id: amd.layers[0]!.digest.slice(7, 19), digest: amd.layers[0]!.digest, state: 'exists' });
    expect(events).toContainEqual({ type: 'blob', id: amd.layers[1]!.digest.slice(7, 19), digest: amd.layers[1]!.digest, state: 'mounted', from: 'other/repo' });
  });

  it('up to date: with skipUpToDate, a destination that has the root under every name costs one question and nothing is read', async () => {
    const { mem, index } = twoPlatforms();
    const dest = new MemoryDestination();
    dest.current.set('v1', index.digest);
    const source = new MemorySource(mem);
    const r = await copyImage(source, dest, { root: index, names: ['v1'] }, { concurrency: 1, skipUpToDate: true });
    expect(r).toMatchObject({ upToDate: true, transferred: 0, changed: false });
    expect(dest.calls).toEqual(['upToDate v1']);
    expect(source.reads).toEqual([]);
  });

  it('a config that is not JSON is refused before any blob moves', async () => {
    const mem = new Memory();
    const layer = mem.add(Buffer.from('l'), LAYER);
    const config = mem.add(Buffer.from('<html>not a config'), OCI_CONFIG);
    const m = mem.add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] })), OCI_MANIFEST);
    const dest = new MemoryDestination();
    await expect(copyImage(new MemorySource(mem), dest, { root: m, names: ['x'] }, { concurrency: 1 })).rejects.toThrow(InvalidContentError);
    expect(dest.calls.filter((c) => !c.startsWith('has'))).toEqual([]);
  });

  it('an artifact (config not an image config) is refused unless artifacts are asked for; then its blobs are copied as opaque blobs', async () => {
    const mem = new Memory();
    const empty = mem.add(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
    const sig = mem.add(Buffer.from('signature bytes'), 'application/vnd.example.sig');
    const m = mem.add(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: empty, layers: [sig] })), OCI_MANIFEST);
    await expect(copyImage(new MemorySource(mem), new MemoryDestination(), { root: m, names: [] }, { concurrency: 1 })).rejects.toThrow('unsupported config media type "application/vnd.oci.empty.v1+json"');
    const dest = new MemoryDestination();
    await copyImage(new MemorySource(mem), dest, { root: m, names: [] }, { concurrency: 1, artifacts: true });
    expect([...dest.mem.blobs.keys()].sort()).toEqual([empty.digest, sig.digest, m.digest].sort());
  });

  it('copyImages: two images sharing a layer move it once and commit together', async () => {
    const { mem, amd, arm } = twoPlatforms();
    const dest = new MemoryDestination();
    const rs = await copyImages(new MemorySource(mem), dest, [{ root: amd.manifest, names: ['a'] }, { root: arm.manifest, names: ['b'] }], { concurrency: 3 });
    expect(rs.map((r) => r.target.digest)).toEqual([amd.manifest.digest, arm.manifest.digest]);
    expect(dest.calls.filter((c) => c === `put ${amd.layers[0]!.digest}`)).toHaveLength(1);
    expect(dest.calls.filter((c) => c === 'commit')).toHaveLength(1);
    expect(dest.committed[0]!.map((i) => i.names)).toEqual([['a'], ['b']]);
  });
});
