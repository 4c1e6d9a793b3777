/** `rmi`: untag names and delete images no name holds any more, with docker's rules. */
import { ConflictError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { shortId } from '../image/digest.js';
import { reachable } from '../store/gc.js';
import { removeImage, removeName } from '../store/index-file.js';
import type { Store } from '../store/store.js';
import { familiarOf } from './names.js';

/** One line of `rmi` output. */
export type RmiEvent = { untagged: string } | { deleted: Digest };

/** What happened to one argument: its events, or the error that stopped it. */
export interface RmiResult {
  arg: string;
  events: RmiEvent[];
  error?: unknown;
}

/** Options of `rmi`. */
export interface RmiOptions {
  /** `-f`: untag every name of an image given by ID, and delete it. */
  force?: boolean;
}

/**
 * Removes each argument in turn, as docker does: by name untags (and deletes when that
 * was the last name); by ID deletes, refusing an image with several names unless forced.
 * A failing argument does not stop the others.
 */
export async function rmi(store: Store, args: string[], opts: RmiOptions = {}): Promise<RmiResult[]> {
  const results: RmiResult[] = [];
  for (const arg of args) {
    try {
      results.push({ arg, events: await rmiOne(store, arg, opts) });
    } catch (error) {
      results.push({ arg, events: [], error });
    }
  }
  return results;
}

function rmiOne(store: Store, arg: string, opts: RmiOptions): Promise<RmiEvent[]> {
  return store.update(async (index, tx) => {
    // A damaged image (a missing blob, a config that does not parse) is found and removed all the same.
    const { record, name, byId } = await store.findStored(arg, index);
    const events: RmiEvent[] = [];
    if (!byId && name !== undefined) {
      removeName(index, name);
      events.push({ untagged: familiarOf(name) });
      if (record.names.length > 1) return events;
      tx.collect(await reachable(store.blobs, [record.descriptor]));
      removeImage(index, record.descriptor.digest);
      events.push({ deleted: record.id });
      return events;
    }
    // By ID the image is every manifest with that config (one IMAGE ID in `images`, as docker has
    // one image per ID): a manifest pulled as docker v2 and the same image as OCI share it.
    const group = (await store.storedImages(index)).filter((r) => r.id === record.id);
    const names = [...new Set(group.flatMap((r) => r.names))].sort();
    if (names.length > 1 && !opts.force) {
      throw new ConflictError(
        `conflict: unable to delete ${shortId(record.id)} (must be forced) - image is referenced in multiple repositories`,
      );
    }
    for (const n of names) events.push({ untagged: familiarOf(n) });
    tx.collect(await reachable(store.blobs, group.map((r) => r.descriptor)));
    for (const r of group) removeImage(index, r.descriptor.digest);
    events.push({ deleted: record.id });
    return events;
  });
}
