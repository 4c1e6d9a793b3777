/** `info`: where the store is and what it holds. */
import { readdir, stat } from 'node:fs/promises';
import type { Store } from '../store/store.js';

/** The store's summary. */
export interface StoreInfo {
  root: string;
  images: number;
  names: number;
  dangling: number;
  blobs: number;
  /** Bytes in `blobs/`. */
  diskUsage: number;
  /** Images that cannot be read (a missing blob, a bad config): `rmi` removes them. */
  damaged: number;
  /** Partial downloads kept for resume (`image prune` removes those no live pull holds). */
  partialDownloads: number;
  partialBytes: number;
  /** Temp files of writers, live or dead (dead ones are swept by the next write, or `image prune`). */
  tempFiles: number;
  tempBytes: number;
}

/** Counts images, names, damaged images, blobs and leftovers, and adds up their bytes. */
export async function info(store: Store): Promise<StoreInfo> {
  const records = await store.storedImages();
  const blobs = await readdir(store.layout.blobDir);
  let diskUsage = 0;
  // A blob removed meanwhile (a concurrent rmi) is no longer there to count.
  for (const b of blobs) diskUsage += (await stat(`${store.layout.blobDir}/${b}`).catch(() => ({ size: 0 }))).size;
  const left = store.leftovers();
  return {
    root: store.root,
    images: records.length,
    names: records.reduce((n, r) => n + r.names.length, 0),
    dangling: records.filter((r) => r.names.length === 0).length,
    blobs: blobs.length,
    diskUsage,
    damaged: records.filter((r) => r.damaged !== undefined).length,
    partialDownloads: left.partials.count,
    partialBytes: left.partials.bytes,
    tempFiles: left.temps.count,
    tempBytes: left.temps.bytes,
  };
}
