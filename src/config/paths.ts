/** Where ts-docker's client config lives and where certs.d folders are searched. */
import { dirname, join, resolve } from 'node:path';
import Conf from 'conf';

/** Docker's system-wide certs.d, searched after ts-docker's own. */
export const SYSTEM_CERTS_D = '/etc/docker/certs.d';

/** The config dir: `dir` (from `--config` / `$TS_DOCKER_CONFIG`), else conf's platform default (`~/.config/ts-docker`). */
export function configDir(dir?: string): string {
  if (dir) return resolve(dir);
  return dirname(new Conf({ projectName: 'ts-docker', projectSuffix: '', configName: 'config' }).path);
}

/** The certs.d folders, in search order: `<config dir>/certs.d`, then `/etc/docker/certs.d`. */
export function certsDirs(dir?: string): string[] {
  return [join(configDir(dir), 'certs.d'), SYSTEM_CERTS_D];
}
