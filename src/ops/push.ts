/** `push`: upload an image (or every tag of a repository) to the registry its name names. */
import type { CopyListener } from '../image/progress.js';
import { copyImage } from '../copy/copy.js';
import { NotFoundError } from '../errors.js';
import type { Platform } from '../image/descriptor.js';
import { parseDockerRef, parseReference } from '../reference/index.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryDestination } from '../registry/endpoint.js';
import { StoreSource } from '../store/endpoint.js';
import { exportRoot, usable } from '../store/images.js';
import { Sidecars } from '../store/sidecars.js';
import type { Store } from '../store/store.js';
import type { Transport } from '../transport/transport.js';

/** Options of `push`. */
export interface PushOptions {
  allTags?: boolean;
  /** Bytes per PATCH (the first one, with `growChunksTo`). */
  chunkSize: number;
  /** Lets chunks grow up to this size while each takes under two seconds (the CLI's default). */
  growChunksTo?: number;
  concurrency: number;
  insecure?: readonly string[];
  /** Push only this platform of an index: its manifest under the tag (docker 28+'s `push --platform`). */
  platform?: Platform | undefined;
  onEvent?: CopyListener;
  signal?: AbortSignal;
  /** True once the user asked to stop (Ctrl-C): uploads stop after their current chunk. */
  stopping?: () => boolean;
}

/** Pushes `name` (or with allTags every local tag of its repository); returns the digests pushed by tag. */
export async function push(store: Store, transport: Transport, name: string, opts: PushOptions): Promise<{ tag: string; digest: string; size: number }[]> {
  const ref = opts.allTags ? parseReference(name) : parseDockerRef(name);
  if (opts.allTags && ref.tag) throw new NotFoundError(`tag can't be used with --all-tags/-a`);
  const index = await store.readIndex();
  // Damaged images too: pushing one is an error naming it, not "does not exist locally".
  const records = await store.storedImages(index);
  const targets = records.flatMap((r) => r.names
    .map((n) => parseReference(n))
    .filter((n) => n.name === ref.name && (opts.allTags ? n.tag !== undefined : n.full === ref.full))
    .map((n) => ({ record: usable(r, n.full), tag: n.tag!, label: n.familiar })));
  if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${opts.allTags ? ref.familiarName : ref.familiar.replace(/:latest$/, '')}`);
  // What each tag pushes is decided before any network: a platform not in the store fails at once.
  const roots = targets.map((t) => ({ ...t, root: exportRoot(t.record, opts.platform, t.label, 'push') }));
  const emit = opts.onEvent ?? (() => undefined);
  emit({ type: 'push-start', repository: ref.name });
  const reg = new RegistryClient(ref.domain, transport, opts.insecure);
  await reg.ping(opts.signal);
  const dest = new RegistryDestination(reg, ref.path, {
    chunkSize: opts.chunkSize, growChunksTo: opts.growChunksTo, sidecars: new Sidecars(store.layout), onEvent: emit, signal: opts.signal, ...(opts.stopping ? { stopping: opts.stopping } : {}),
  });
  const pushed: { tag: string; digest: string; size: number }[] = [];
  for (const { root, tag } of roots.sort((a, b) => a.tag.localeCompare(b.tag))) {
    await copyImage(new StoreSource(store), dest, { root, names: [tag] }, { concurrency: opts.concurrency, onEvent: emit, retry: transport.retryPolicy });
    const out = { tag, digest: root.digest, size: root.size };
    emit({ type: 'pushed', ...out });
    pushed.push(out);
  }
  return pushed;
}
