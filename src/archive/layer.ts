/**
 * Turns a filesystem tarball (plain or gzip) into an image layer. The tar is re-packed entry by
 * entry on the way (streamed: one entry's data at a time, never the whole layer), with names
 * made safe as docker makes them when it applies a layer; the uncompressed result is hashed
 * (the diff_id) and stored gzip-compressed, all in one stream.
 *
 * The rules (each as moby's `pkg/archive` UnpackLayer / containerd's `archive.Apply` applies a
 * layer, so what ts-docker pushes is what docker would have unpacked):
 * - names are relative and clean: a leading `/` or `./` is dropped, `a//b` and `a/./b` and
 *   `a/x/../b` are folded (`/etc/passwd` -> `etc/passwd`); the root entry (`./`) is dropped;
 * - a relative name that climbs above the root (`../evil`, `./a/../../b`) is refused: docker
 *   refuses it (`"../evil" is outside of ...`), and a naive extractor would write outside;
 * - a hard link must name (after the same normalization: `/etc/x` is `etc/x`) a file, link or
 *   device already in this tarball; one that climbs above the root or names anything else (a
 *   host file such as `/etc/shadow`, a directory, a path through a symlink) is refused;
 * - a symbolic link may point anywhere (absolute targets are kept, as docker keeps them: they are
 *   resolved inside the container), but nothing may be written through it: an entry whose parent
 *   path is a symlink made earlier in the same tarball (`link -> /etc`, then `link/passwd`) is
 *   refused;
 * - entry types other than files, directories, links, devices and FIFOs (GNU sparse or volume
 *   headers) are refused rather than passed on half-understood.
 * Metadata is kept: mode, owner ids and names, times, device numbers, pax records (xattrs such
 * as file capabilities). Only what follows the end-of-archive marker is dropped.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Header } from 'tar-stream';
import { extract, pack } from 'tar-stream';
import { InvalidContentError } from '../errors.js';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { DigestingStream } from '../image/digest.js';
import { OCI_LAYER_GZIP } from '../image/media-types.js';
import type { BlobStore, StagedBlob } from '../store/blobs.js';
import { decompress, peekCompression } from './compression.js';
import { layerEntryName } from './safe-path.js';
import { stopReading, untilEndOfArchive } from './tar-staging.js';

/** A layer staged in the store's ingest folder. */
export interface StagedLayer {
  descriptor: Descriptor;
  diffId: Digest;
  staged: StagedBlob;
}

type Kind = 'dir' | 'symlink' | 'other';
const PASSED = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/** Checks one entry against what came before it and returns the header to write, or undefined to drop it. */
class LayerRules {
  /** What each name written so far is (the last entry of a name wins, as extraction replaces). */
  private readonly kinds = new Map<string, Kind>();

  /** The first ancestor of `name` that is a symlink in this layer, if any. */
  private symlinkAncestor(name: string): string | undefined {
    for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
      const parent = name.slice(0, i);
      if (this.kinds.get(parent) === 'symlink') return parent;
    }
    return undefined;
  }

  check(h: Header): Header | undefined {
    const raw = h.name;
    let type: string = (h.type as string | null) ?? 'unknown';
    // Old tars mark a directory by a trailing slash on a plain file entry (tar-stream reports 'file').
    if (type === 'file' && raw.endsWith('/') && !h.size) type = 'directory';
    if (!PASSED.has(type)) throw new InvalidContentError(`invalid tar entry ${JSON.stringify(raw)}: unsupported entry type ${type}`);
    const n = layerEntryName(raw);
    if ('outside' in n) throw new InvalidContentError(`invalid tar entry ${JSON.stringify(raw)}: the path is outside of the layer`);
    if (n.name === '') {
      if (type !== 'directory') throw new InvalidContentError(`invalid tar entry ${JSON.stringify(raw)}: a ${type} at the layer's root`);
      return undefined;
    }
    const via = this.symlinkAncestor(n.name);
    if (via !== undefined) throw new InvalidContentError(`invalid tar entry ${JSON.stringify(raw)}: its parent ${JSON.stringify(via)} is a symbolic link in this layer`);
    const out: Header = { ...h, type: type as Header['type'], name: type === 'directory' ? `${n.name}/` : n.name };
    if (type === 'link') {
      const what = `invalid hardlink ${JSON.stringify(raw)} -> ${JSON.stringify(h.linkname ?? '')}`;
      const t = layerEntryName(h.linkname ?? '');
      if ('outside' in t) throw new InvalidContentError(`${what}: the target is outside of the layer`);
      const kind = this.kinds.get(t.name);
      if (t.name === '' || kind === undefined || this.symlinkAncestor(t.name) !== undefined) throw new InvalidContentError(`${what}: the target is not a file in this layer`);
      if (kind === 'dir') throw new InvalidContentError(`${what}: the target is a directory`);
      out.linkname = t.name;
    }
    if (out.pax) {
      // The names are written from the header fields; stale pax copies would override them.
      const { path: _p, linkpath: _l, ...rest } = out.pax as Record<string, string>;
      if (Object.keys(rest).length > 0) out.pax = rest;
      else delete out.pax;
    }
    this.kinds.set(n.name, type === 'directory' ? 'dir' : type === 'symlink' ? 'symlink' : 'other');
    return out;
  }
}

/**
 * A stream that reads a tar and writes it again under {@link LayerRules}; the first broken rule
 * (or a malformed tar) fails it with a one-line {@link InvalidContentError}.
 */
function normalizeLayer(input: Readable): Readable {
  const rules = new LayerRules();
  const ex = extract();
  const out = pack();
  const fail = (err: Error): void => {
    const e = err instanceof InvalidContentError ? err : new InvalidContentError(`not a valid tar archive: ${err.message}`);
    ex.destroy(e);
    out.destroy(e);
  };
  ex.on('entry', (header, body, next) => {
    // The entry stream fails too when the parser is destroyed; the first failure is reported once.
    body.on('error', () => undefined);
    let h: Header | undefined;
    try {
      h = rules.check(header);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (!h) {
      body.on('end', next);
      body.resume();
      return;
    }
    const sink = out.entry(h, (err) => (err ? fail(err) : next()));
    sink.on('error', () => undefined);
    body.pipe(sink);
  });
  ex.on('finish', () => out.finalize());
  ex.on('error', (err: Error) => fail(err));
  input.on('error', (err) => fail(err));
  input.pipe(ex as unknown as NodeJS.WritableStream);
  // tar-stream packs are streamx streams; Node pipes them as it does its own Readables.
  return out as unknown as Readable;
}

/** Passes bytes on unchanged, failing when `source` fails (streamx errors do not travel through pipe). */
function relay(source: Readable): Transform {
  const t = new Transform({ transform: (c: Buffer, _e, cb) => cb(null, c) });
  source.on('error', (err) => t.destroy(err));
  source.pipe(t);
  return t;
}

/** Stages `input` as a gzip layer; the caller commits or discards it. */
export async function stageLayer(input: Readable, blobs: BlobStore): Promise<StagedLayer> {
  const { compression, stream } = await peekCompression(input);
  if (compression !== 'none' && compression !== 'gzip') {
    throw new InvalidContentError(`${compression}-compressed tarballs are not supported; decompress it first`);
  }
  const plain = decompress(stream, compression);
  const framed = untilEndOfArchive(() => stopReading(input));
  plain.on('error', (err) => framed.destroy(err));
  let failure: Error | undefined;
  const tar = normalizeLayer(plain.pipe(framed));
  (tar as unknown as { on(e: 'error', f: (err: Error) => void): void }).on('error', (err) => { failure ??= err; });
  const diff = new DigestingStream();
  const gzip = createGzip();
  const relayed = relay(tar);
  for (const [a, b] of [[relayed, diff], [diff, gzip]] as const) a.on('error', (err) => b.destroy(err));
  try {
    const staged = await blobs.stage(relayed.pipe(diff).pipe(gzip), {}, 'layer');
    if (failure) {
      await blobs.discard(staged);
      throw failure;
    }
    return {
      descriptor: { mediaType: OCI_LAYER_GZIP, digest: staged.digest, size: staged.size },
      diffId: diff.digest(),
      staged,
    };
  } catch (err) {
    // Stop reading (and close) the input: a refused tarball leaves no file handle behind.
    stopReading(input);
    throw failure ?? err;
  }
}
