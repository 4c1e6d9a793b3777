/** The contract every copy endpoint implements: where images come from and go to. */
import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';

/** What happened to one blob at the sink. */
export type BlobOutcome = { kind: 'exists' } | { kind: 'transferred' } | { kind: 'mounted'; from: string };

/** A place images are read from (the store, a registry, an archive). */
export interface ImageSource {
  /** The exact bytes of a manifest or index, verified against its digest. */
  manifest(d: Descriptor): Promise<Buffer>;
  /** A blob's bytes from `offset`; `resumed` false when the source could only start at 0. */
  blob(d: Descriptor, offset: number, signal?: AbortSignal): Promise<{ stream: Readable; resumed: boolean }>;
  /** Random access to a local blob (lets a sink upload chunks and resume); absent for remote sources. */
  open?(d: Descriptor, start: number, end: number): Readable;
}

/** What the copy knows about a blob beyond its descriptor. */
export interface BlobInfo {
  /** A layer (the sink may decompress and check it), not a config. */
  layer: boolean;
  /** The layer's uncompressed digest as the image config lists it (`rootfs.diff_ids[i]`). */
  diffId?: Digest | undefined;
}

/** A place images are written to. */
export interface ImageSink {
  /** Brings one blob over (or finds it already there); `progress` gets bytes done so far. */
  blob(d: Descriptor, source: ImageSource, progress: (done: number) => void, info?: BlobInfo): Promise<BlobOutcome>;
  /**
   * The bytes of a small blob (a config) the sink holds, moved or already there, verified against
   * `d`; undefined when it does not have it. Absent for sinks that cannot read back (a registry).
   */
  readBlob?(d: Descriptor): Promise<Buffer | undefined>;
  /** Writes a manifest or index with its exact bytes; `tag` names it (the root), else by digest. */
  manifest(d: Descriptor, bytes: Buffer, tag?: string): Promise<void>;
}
