/** Where ts-docker's client config lives and where certs.d folders are searched. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Docker's system-wide certs.d, searched after ts-docker's own. */
export const SYSTEM_CERTS_D = '/etc/docker/certs.d';

/**
 * conf's default config dir for project `ts-docker` with no suffix, computed as its env-paths
 * does (without loading conf, which costs every command ~20 ms of module loading):
 * `$XDG_CONFIG_HOME/ts-docker` or `~/.config/ts-docker` on Linux, `~/Library/Preferences/ts-docker`
 * on macOS, `%APPDATA%\ts-docker\Config` on Windows. credentials-file.ts (conf) must agree with it.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const name = 'ts-docker';
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Preferences', name);
  if (process.platform === 'win32') return join(env['APPDATA'] || join(homedir(), 'AppData', 'Roaming'), name, 'Config');
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), name);
}

/** The config dir: `dir` (from `--config` / `$TS_DOCKER_CONFIG`), else conf's platform default (`~/.config/ts-docker`). */
export function configDir(dir?: string): string {
  if (dir) return resolve(dir);
  return resolve(defaultConfigDir());
}

/** The certs.d folders, in search order: `<config dir>/certs.d`, then `/etc/docker/certs.d`. */
export function certsDirs(dir?: string): string[] {
  return [join(configDir(dir), 'certs.d'), SYSTEM_CERTS_D];
}
