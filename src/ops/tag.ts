/** `tag`: give an image one more name. No blob is copied; the IMAGE ID stays the same. */
import { InvalidArgumentError } from '../errors.js';
import { parseDockerRef, parseReference } from '../reference/index.js';
import type { Store } from '../store/store.js';
import { setName } from '../store/index-file.js';

/** Names `source` (name, ID or unique ID prefix) also as `target`; returns the full target reference. */
export async function tag(store: Store, source: string, target: string): Promise<string> {
  const parsed = parseReference(target);
  if (parsed.digest) throw new InvalidArgumentError('refusing to create a tag with a digest reference');
  const full = parseDockerRef(target).full;
  await store.update(async (index) => {
    const { record } = await store.find(source, index);
    setName(index, full, record.descriptor);
  });
  return full;
}
