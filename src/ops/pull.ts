/** `pull`: download an image by tag or digest (or every tag) into the store, for one platform (an index kept as the image). */
import { copyImage } from '../copy/copy.js';
import type { CopyListener } from '../image/progress.js';
import { NotFoundError } from '../errors.js';
import type { Platform } from '../image/descriptor.js';
import { hostPlatform } from '../image/platform.js';
import type { Reference } from '../reference/index.js';
import { parseDockerRef, parseReference, withTag } from '../reference/index.js';
import { RegistryClient } from '../registry/client.js';
import { RegistrySource } from '../registry/endpoint.js';
import { StoreDestination } from '../store/endpoint.js';
import type { Store } from '../store/store.js';
import type { Transport } from '../transport/transport.js';

/** Options of `pull`. */
export interface PullOptions {
  allTags?: boolean;
  platform?: Platform | undefined;
  concurrency: number;
  insecure?: readonly string[];
  onEvent?: CopyListener;
  signal?: AbortSignal;
}

/** Pulls `name`; returns the full references now in the store. */
export async function pull(store: Store, transport: Transport, name: string, opts: PullOptions): Promise<string[]> {
  const base = opts.allTags ? parseReference(name) : parseDockerRef(name);
  if (opts.allTags && (base.tag || base.digest)) throw new NotFoundError('tag can\'t be used with --all-tags/-a');
  const reg = new RegistryClient(base.domain, transport, opts.insecure);
  await reg.ping(opts.signal);
  const refs: Reference[] = opts.allTags ? (await reg.tags(base.path, opts.signal)).sort().map((t) => withTag(base, t)) : [base];
  const emit = opts.onEvent ?? (() => undefined);
  const done: string[] = [];
  for (const ref of refs) {
    const label = ref.digest ?? ref.tag ?? 'latest';
    emit({ type: 'pull-start', ref: opts.allTags ? ref.tag! : label, repository: ref.path });
    const { source, root } = await RegistrySource.open(reg, ref.path, label, opts.signal).catch(notFound(ref));
    const dest = new StoreDestination(store, { onEvent: emit, signal: opts.signal, origin: { domain: ref.domain, repo: ref.path }, retry: transport.retryPolicy });
    // An index stays the image, with only this platform's manifest and blobs in the store (docker
    // 29's containerd store keeps them so): the name and RepoDigests are the registry's index
    // digest, and pulling another platform of the same name adds it to the same image.
    const { changed } = await copyImage(source, dest, { root, names: [ref.full] }, {
      platform: opts.platform ?? hostPlatform(), keepIndex: true, concurrency: opts.concurrency, onEvent: emit, retry: transport.retryPolicy,
    });
    emit({ type: 'pulled', reference: ref.familiar, digest: root.digest, changed });
    done.push(ref.full);
  }
  return done;
}

/** docker's words for a reference the registry does not have (`manifest for NAME not found: ...`). */
export function notFound(ref: Reference): (err: unknown) => never {
  return (err) => {
    if ((err as { status?: number }).status === 404) throw new NotFoundError(`manifest for ${ref.familiar} not found: manifest unknown: manifest unknown`);
    throw err;
  };
}
