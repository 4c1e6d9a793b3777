/**
 * The contract every copy endpoint implements: where images come from ({@link ImageSource}) and
 * go to ({@link ImageDestination}). `copyImages` (copy/copy.ts) drives it: per blob `has`, then
 * `mount` where offered, else `put`; manifests children first, the root last; then `commit`.
 * The store, a registry repository, an OCI layout and the archives each implement it in the
 * folder that owns them (store/, registry/, archive/).
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';

/** A blob's bytes from `offset`; `resumed` is false when the source could only start at byte 0. */
export type BlobRead = { stream: Readable; resumed: boolean };

/**
 * Reads one blob from an offset (a Range request, a file read at a position). `stagedFile`: a
 * temp file of this process holding exactly the blob, already verified by the source (`load`'s
 * and `import`'s staging), that a destination on the same disk may take by rename instead of
 * reading it; the source gives the file up.
 */
export type BlobReader = ((offset: number, signal?: AbortSignal) => Promise<BlobRead>) & { stagedFile?: string | undefined };

/** A place images are read from (the store, a registry, an OCI layout, an archive). */
export interface ImageSource {
  /** The exact bytes of a manifest or index, verified against its digest. */
  manifest(d: Descriptor): Promise<Buffer>;
  /** A blob's bytes from `offset`. */
  blob(d: Descriptor, offset: number, signal?: AbortSignal): Promise<BlobRead>;
  /**
   * Manifests whose `subject` is `d` (signatures, SBOMs, attestations), as descriptors; absent
   * when the source cannot list them.
   */
  referrers?(d: Descriptor): Promise<Descriptor[]>;
  /**
   * False for a manifest the source does not hold: an index's platform that is absent (an archive
   * of a partly pulled image, `load --platform`); the copy leaves it absent. Absent: holds all.
   */
  holds?(d: Descriptor): boolean;
  /** A staged temp file holding exactly `d` that the destination may take (see {@link BlobReader}). */
  stagedFile?(d: Descriptor): string | undefined;
}

/** What happened to one blob at the destination. */
export type BlobOutcome = { kind: 'exists' } | { kind: 'transferred' } | { kind: 'mounted'; from: string };

/** What the copy knows about a blob beyond its descriptor. */
export interface BlobInfo {
  /** A layer (the destination may decompress and check it), not a config. */
  layer: boolean;
  /** The layer's uncompressed digest as the image config lists it (`rootfs.diff_ids[i]`). */
  diffId?: Digest | undefined;
}

/** One image the copy brought over, as `commit` receives it. */
export interface CopiedImage {
  /** The root copied (an index, or a single manifest). */
  root: Descriptor;
  /** What a name points at: the root, or the platform manifest chosen from an index. */
  target: Descriptor;
  /** Names to give it at the destination (tags, full references); empty: by digest only. */
  names: string[];
}

/** A place images are written to. */
export interface ImageDestination {
  /** True when the destination holds the blob already (a layer also checked against `info.diffId` where it can). */
  has(d: Descriptor, info: BlobInfo): Promise<boolean>;
  /** Gets the blob without moving its bytes (a cross-repository mount): where it came from, or undefined. */
  mount?(d: Descriptor): Promise<string | undefined>;
  /**
   * Moves one blob, reading it with `read` from where the destination got to (a resumed
   * download or upload); `progress` gets bytes done so far. `exists` when another writer
   * brought the blob meanwhile.
   */
  put(d: Descriptor, read: BlobReader, progress: (done: number) => void, info: BlobInfo): Promise<'transferred' | 'exists'>;
  /**
   * The bytes of a small blob (a config) the destination holds, verified against `d`; undefined
   * when it does not have it. Absent where reading back costs a request (a registry).
   */
  readBlob?(d: Descriptor): Promise<Buffer | undefined>;
  /**
   * True when `root` is there already under every one of `names` (by digest when empty): the copy
   * is up to date and moves nothing. Absent: always copied.
   */
  upToDate?(root: Descriptor, names: string[]): Promise<boolean>;
  /** Writes a manifest or index with its exact bytes, under `names` (the root's), else by digest. */
  putManifest(d: Descriptor, bytes: Buffer, names: string[]): Promise<void>;
  /**
   * Makes the copied images visible (names in the store's index, an OCI layout's index.json, an
   * archive's last bytes); true when something changed. Absent where each write is final (a registry).
   */
  commit?(images: CopiedImage[]): Promise<boolean>;
  /**
   * The copy failed: drop what this destination wrote that is of no use (an archive's temp
   * file). Absent where what was written is kept on purpose (partial downloads, upload sessions).
   */
  abort?(): Promise<void>;
}
