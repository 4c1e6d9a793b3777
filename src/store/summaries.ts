/**
 * What `images` shows of each image (ID, created, size, labels), remembered in a sidecar so that
 * listing a store of 1,000 names reads one small file instead of 2,000 manifests and configs.
 * A summary is derived only from a manifest's bytes and its config's bytes, both immutable under
 * their digests, so an entry can never go stale; it is a hint all the same: a missing, damaged
 * or unwritable file only costs resolving the images again.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Descriptor } from '../image/descriptor.js';
import type { Digest } from '../image/digest.js';
import { writeFileAtomic } from './atomic-write.js';
import type { ImageRecord, StoredImage } from './images.js';
import type { StoreLayout } from './layout.js';

/** One image as `images` lists it: an {@link ImageRecord} without the manifest and config documents. */
export interface ImageSummary {
  descriptor: Descriptor;
  /** Full references naming it, sorted; empty for a dangling image. */
  names: string[];
  id: Digest;
  size: number;
  created: Date | undefined;
  /** The config's `config.Labels`. */
  labels: Record<string, string>;
  /** Set for a damaged image (images.ts): what is wrong with it. */
  damaged?: string;
}

/** What the sidecar keeps per root digest (a manifest or an index). */
interface Entry {
  id: Digest;
  /** Bytes of the config and layers, for an index those of every present platform with their manifests (the root's own size comes from its descriptor). */
  blobs: number;
  created?: string;
  labels?: Record<string, string>;
}

interface CacheFile {
  version: 1;
  /** The `blobs/sha256` folder's mtime (ns) when the entries were last checked against it. */
  stamp?: string;
  entries: Record<string, Entry>;
}

const VERSION = 1;

/** The summary of a resolved (or damaged) record. */
export function summaryOf(r: StoredImage): ImageSummary {
  if (r.damaged !== undefined) return { descriptor: r.descriptor, names: r.names, id: r.id, size: r.size, created: undefined, labels: {}, damaged: r.damaged };
  return { descriptor: r.descriptor, names: r.names, id: r.id, size: r.size, created: r.created, labels: r.config.config?.Labels ?? {} };
}

/** The sidecar `cache/image-summaries.json` of one store. */
export class SummaryCache {
  private entries: Record<string, Entry> = {};
  private changed = false;
  private stamp: string | undefined;
  /** False when blobs were added or removed since the entries were written: each must be resolved again. */
  private trusted = false;

  constructor(private readonly layout: StoreLayout) {}

  private get dir(): string { return join(this.layout.root, 'cache'); }
  private get file(): string { return join(this.dir, 'image-summaries.json'); }

  /**
   * Reads the sidecar (a missing or unreadable one is empty). Its entries are trusted only if
   * `blobs/sha256` has not changed since they were written (`stamp`: the folder's mtime, read before
   * any blob is), so a manifest, config or layer deleted since (a damaged image) is noticed at the
   * cost of one stat, not one per blob.
   */
  load(stamp?: string): this {
    this.stamp = stamp;
    try {
      const doc = JSON.parse(readFileSync(this.file, 'utf8')) as CacheFile;
      if (doc && doc.version === VERSION && doc.entries && typeof doc.entries === 'object') {
        this.entries = doc.entries;
        this.trusted = stamp !== undefined && doc.stamp === stamp;
        if (!this.trusted) this.changed = true;
      }
    } catch {
      // No sidecar yet, or a damaged one: resolve everything and write a new one.
    }
    return this;
  }

  /** The summary of root `d` (a manifest, or an index with the platforms it had when put), when known and trusted. */
  get(d: Descriptor, names: string[]): ImageSummary | undefined {
    if (!this.trusted) return undefined;
    const e = this.entries[d.digest];
    if (!e || typeof e.id !== 'string' || typeof e.blobs !== 'number') return undefined;
    const created = e.created ? new Date(e.created) : undefined;
    return {
      descriptor: d, names, id: e.id, size: d.size + e.blobs,
      created: created && !Number.isNaN(created.getTime()) ? created : undefined, labels: e.labels ?? {},
    };
  }

  /**
   * Remembers a resolved record. An index's record depends on which of its platforms the store
   * holds (its size, the platform chosen), which changes when one is pulled or removed: that adds
   * or removes blobs, which changes the stamp, so every entry is checked again then (as for a
   * blob deleted behind the store's back). A damaged image is never kept (and forgotten if it
   * was): it may be repaired or removed.
   */
  put(r: StoredImage): void {
    if (r.damaged !== undefined) {
      this.forget(r.descriptor.digest);
      return;
    }
    const e: Entry = { id: r.id, blobs: r.size - r.descriptor.size };
    if (r.created) e.created = r.created.toISOString();
    const labels = r.config.config?.Labels;
    if (labels && Object.keys(labels).length > 0) e.labels = labels;
    this.entries[r.descriptor.digest] = e;
    this.changed = true;
  }

  /** Drops the entry of root `digest` (an image found damaged). */
  forget(digest: Digest): void {
    if (!(digest in this.entries)) return;
    delete this.entries[digest];
    this.changed = true;
  }

  /** Writes the sidecar back, keeping only `live` digests, if anything changed; failures are ignored. */
  async save(live: ReadonlySet<Digest>): Promise<void> {
    for (const k of Object.keys(this.entries)) {
      if (live.has(k as Digest)) continue;
      delete this.entries[k];
      this.changed = true;
    }
    if (!this.changed) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      const doc: CacheFile = { version: VERSION, entries: this.entries };
      if (this.stamp !== undefined) doc.stamp = this.stamp;
      await writeFileAtomic(this.file, JSON.stringify(doc), false);
      this.changed = false;
    } catch {
      // A read-only store lists images all the same, only slower.
    }
  }
}
