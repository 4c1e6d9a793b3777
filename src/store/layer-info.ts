/**
 * What the store knows about a layer blob beyond its bytes: its uncompressed digest (diff_id)
 * and uncompressed size, measured while it was pulled or loaded. One small JSON record per
 * blob under `cache/layers/<hex>.json`, beside the layout, never inside `blobs/`. A hint: the
 * blob is content-addressed, so a record never goes stale; losing one costs recomputing it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Digest } from '../image/digest.js';
import { hexOf, isDigest } from '../image/digest.js';
import { writeFileAtomicSync } from './atomic-write.js';
import type { StoreLayout } from './layout.js';

/** A layer blob's uncompressed side. */
export interface LayerInfo {
  /** SHA-256 of the uncompressed tar (the image config's `rootfs.diff_ids` entry). */
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
}

/** Reads and writes the layer records of one store. Synchronous: each is a few dozen bytes. */
export class LayerInfoStore {
  private made = false;

  constructor(private readonly layout: StoreLayout) {}

  private get dir(): string { return join(this.layout.root, 'cache', 'layers'); }

  /** The record of a layer blob, or undefined when there is none (or it is unreadable). */
  get(blob: Digest): LayerInfo | undefined {
    try {
      const v = JSON.parse(readFileSync(join(this.dir, `${hexOf(blob)}.json`), 'utf8')) as Partial<LayerInfo>;
      return isDigest(v.diffId) && Number.isSafeInteger(v.size) && v.size! >= 0 ? { diffId: v.diffId, size: v.size! } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records a layer blob's uncompressed side (not durable: a lost record is only recomputed). */
  set(blob: Digest, info: LayerInfo): void {
    if (!this.made) {
      mkdirSync(this.dir, { recursive: true });
      this.made = true;
    }
    writeFileAtomicSync(join(this.dir, `${hexOf(blob)}.json`), JSON.stringify({ diffId: info.diffId, size: info.size }), false);
  }
}
