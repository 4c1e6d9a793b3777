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
}

/** Counts images, names and blobs and adds up the blob bytes. */
export async function info(store: Store): Promise<StoreInfo> {
  const records = await store.images();
  const blobs = await readdir(store.layout.blobDir);
  let diskUsage = 0;
  for (const b of blobs) diskUsage += (await stat(`${store.layout.blobDir}/${b}`)).size;
  return {
    root: store.root,
    images: records.length,
    names: records.reduce((n, r) => n + r.names.length, 0),
    dangling: records.filter((r) => r.names.length === 0).length,
    blobs: blobs.length,
    diskUsage,
  };
}
