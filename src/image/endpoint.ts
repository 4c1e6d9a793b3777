/** The contract every copy endpoint implements: where images come from and go to. */
import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';

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

/** A place images are written to. */
export interface ImageSink {
  /** Brings one blob over (or finds it already there); `progress` gets bytes done so far. */
  blob(d: Descriptor, source: ImageSource, progress: (done: number) => void): Promise<BlobOutcome>;
  /** Writes a manifest or index with its exact bytes; `tag` names it (the root), else by digest. */
  manifest(d: Descriptor, bytes: Buffer, tag?: string): Promise<void>;
}
