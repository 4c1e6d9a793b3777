/**
 * `run -v HOST:CONTAINER` for the `registry` image: there is no container, so a path the
 * registry would see inside one (`/var/lib/registry`, `/auth/htpasswd`, `/certs/domain.crt`) is
 * resolved to the host path of the volume that holds it.
 */
import { isAbsolute, posix, resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** One `-v HOST:CONTAINER[:ro|:rw]`. */
export interface Volume {
  /** Absolute host path. */
  host: string;
  /** Normalized absolute path inside the "container". */
  container: string;
}

/** Parses `-v HOST:CONTAINER[:ro|:rw]` (HOST relative to the working directory). */
export function parseVolume(spec: string, cwd = process.cwd()): Volume {
  const m = /^([^:]+):([^:]+?)(?::(ro|rw))?$/.exec(spec);
  if (!m || !posix.isAbsolute(m[2]!)) {
    throw new InvalidArgumentError(`invalid volume ${spec}: expected -v HOST_DIR:/ABSOLUTE/CONTAINER/PATH[:ro|:rw]`);
  }
  const host = isAbsolute(m[1]!) ? m[1]! : resolve(cwd, m[1]!);
  return { host: resolve(host), container: posix.normalize(m[2]!).replace(/(.)\/$/, '$1') };
}

/** The host path of `containerPath` through the deepest volume holding it, or undefined when none does. */
export function hostPath(volumes: readonly Volume[], containerPath: string): string | undefined {
  if (!posix.isAbsolute(containerPath)) return undefined;
  const p = posix.normalize(containerPath);
  const holders = volumes.filter((v) => p === v.container || p.startsWith(v.container === '/' ? '/' : `${v.container}/`));
  const best = holders.sort((a, b) => b.container.length - a.container.length)[0];
  if (!best) return undefined;
  return p === best.container ? best.host : resolve(best.host, p.slice(best.container.length).replace(/^\//, ''));
}
