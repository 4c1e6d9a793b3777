/** Archive entry names: normalized, and refused when they would leave the archive's root. */
import { posix } from 'node:path';
import { InvalidContentError } from '../errors.js';

/**
 * Normalizes an entry name (`./a//b` -> `a/b`); throws for absolute names and for any
 * name with a `..` component, so nothing an archive says can point outside it.
 */
export function safeEntryName(name: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name)) {
    throw new InvalidContentError(`invalid archive: absolute path in entry "${name}"`);
  }
  if (name.split(/[\\/]/).includes('..')) {
    throw new InvalidContentError(`invalid archive: entry "${name}" points outside the archive`);
  }
  const n = posix.normalize(name).replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

/** Resolves a symlink target relative to the link's own folder, with the same rules. */
export function resolveLink(linkName: string, target: string): string {
  if (target.startsWith('/')) throw new InvalidContentError(`invalid archive: link "${linkName}" has an absolute target`);
  const joined = posix.normalize(posix.join(posix.dirname(linkName), target));
  if (joined === '..' || joined.startsWith('../')) {
    throw new InvalidContentError(`invalid archive: link "${linkName}" points outside the archive`);
  }
  return joined;
}

/** Why a layer entry name was refused, or the normalized name (`''` is the layer's root). */
export type LayerName = { name: string } | { outside: true };

/**
 * A layer entry name normalized as docker applies a layer (moby `pkg/archive` UnpackLayer:
 * `filepath.Clean`, then joined to the root): relative, no `.` or empty components, no trailing
 * slash. An absolute name is taken from the layer's root (`/etc/passwd` -> `etc/passwd`, and
 * `/../x` -> `x`, as Go's `Clean` does); a relative one that climbs above the root
 * (`../evil`, `./a/../../b`) is outside the layer: docker refuses it ("is outside of").
 */
export function layerEntryName(raw: string): LayerName {
  const absolute = raw.startsWith('/');
  const n = posix.normalize(absolute ? raw : `./${raw}`).replace(/\/+$/, '');
  if (!absolute && (n === '..' || n.startsWith('../'))) return { outside: true };
  const rel = n.replace(/^\/+/, '');
  return { name: rel === '.' ? '' : rel };
}

/** The entry at `name` in an archive's `files`, following its `links` (hard or symbolic, at most 16 hops); undefined when absent. */
export function followLinks<T>(files: ReadonlyMap<string, T>, links: ReadonlyMap<string, string>, name: string): T | undefined {
  let n = name;
  for (let hops = 0; hops < 16; hops++) {
    const f = files.get(n);
    if (f) return f;
    const t = links.get(n);
    if (t === undefined) return undefined;
    n = t;
  }
  return undefined;
}
