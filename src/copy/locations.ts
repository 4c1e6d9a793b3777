/**
 * Where `ts-docker copy` reads and writes, as written on its command line: skopeo's transport
 * names (`docker://REF`, `oci:DIR[:REF]`, `oci-archive:FILE[:REF]`, `docker-archive:FILE[:REF]`),
 * `store:NAME` for the local store, and a bare reference for a registry (as crane and regctl take it).
 */
import { InvalidArgumentError } from '../errors.js';
import type { Reference } from '../reference/index.js';
import { parseDockerRef } from '../reference/index.js';

/** A parsed copy location. */
export type Location =
  | { kind: 'registry'; ref: Reference; text: string }
  | { kind: 'store'; name: string; text: string }
  | { kind: 'oci' | 'oci-archive' | 'docker-archive'; path: string; ref?: string | undefined; text: string };

const FILE_KINDS = ['oci', 'oci-archive', 'docker-archive'] as const;

/** skopeo's transports this tool does not have: named in the error rather than read as an image name. */
const OTHER_TRANSPORTS = ['containers-storage', 'docker-daemon', 'dir', 'sif', 'tarball', 'ostree'];

/**
 * Parses one location. The first `:` after the transport splits `PATH:REF`, as skopeo splits it
 * (so `docker-archive:x.tar:app:1` is the file `x.tar` and the name `app:1`; a path cannot hold a colon).
 */
export function parseLocation(text: string): Location {
  if (text.startsWith('docker://')) return { kind: 'registry', ref: parseDockerRef(text.slice('docker://'.length)), text };
  if (text.startsWith('store:')) {
    const name = text.slice('store:'.length);
    if (!name) throw new InvalidArgumentError(`invalid location "${text}": store: needs an image name or ID (store:NAME[:TAG])`);
    return { kind: 'store', name, text };
  }
  for (const kind of FILE_KINDS) {
    if (!text.startsWith(`${kind}:`)) continue;
    const rest = text.slice(kind.length + 1);
    const colon = rest.indexOf(':');
    const [path, ref] = colon >= 0 ? [rest.slice(0, colon), rest.slice(colon + 1)] : [rest, undefined];
    if (!path) throw new InvalidArgumentError(`invalid location "${text}": ${kind}: needs a path (${kind}:PATH[:REF])`);
    return { kind, path, ref: ref || undefined, text };
  }
  const transport = /^([a-z-]+):/.exec(text)?.[1];
  if (transport && OTHER_TRANSPORTS.includes(transport)) {
    throw new InvalidArgumentError(`invalid location "${text}": the ${transport}: transport is not supported (use docker://, oci:, oci-archive:, docker-archive: or store:)`);
  }
  return { kind: 'registry', ref: parseDockerRef(text), text };
}
