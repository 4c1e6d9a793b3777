/** `push`: upload an image (or every tag of a repository) to the registry its name names. */
import type { CopyListener } from '../image/progress.js';
import { copyImage } from '../copy/copy.js';
import { NotFoundError } from '../errors.js';
import { parseDockerRef, parseReference } from '../reference/index.js';
import { RegistryClient } from '../registry/client.js';
import { RegistryDestination } from '../registry/endpoint.js';
import { StoreSource } from '../store/endpoint.js';
import { usable } from '../store/images.js';
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
    .map((n) => ({ record: usable(r, n.full), tag: n.tag! })));
  if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${opts.allTags ? ref.familiarName : ref.familiar.replace(/:latest$/, '')}`);
  const emit = opts.onEvent ?? (() => undefined);
  emit({ type: 'push-start', repository: ref.name });
  const reg = new RegistryClient(ref.domain, transport, opts.insecure);
  await reg.ping(opts.signal);
  const dest = new RegistryDestination(reg, ref.path, {
    chunkSize: opts.chunkSize, growChunksTo: opts.growChunksTo, sidecars: new Sidecars(store.layout), onEvent: emit, signal: opts.signal, ...(opts.stopping ? { stopping: opts.stopping } : {}),
  });
  const pushed: { tag: string; digest: string; size: number }[] = [];
  for (const { record, tag } of targets.sort((a, b) => a.tag.localeCompare(b.tag))) {
    await copyImage(new StoreSource(store), dest, { root: record.descriptor, names: [tag] }, { concurrency: opts.concurrency, onEvent: emit, retry: transport.retryPolicy });
    const out = { tag, digest: record.descriptor.digest, size: record.descriptor.size };
    emit({ type: 'pushed', ...out });
    pushed.push(out);
  }
  return pushed;
}
