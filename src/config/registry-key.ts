/**
 * The key a registry's credentials are filed under, as docker files them: the host (with port)
 * for every registry, and the historical `https://index.docker.io/v1/` for Docker Hub.
 */

/** Docker Hub's key in docker's config.json and in credential helpers. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Names Docker Hub goes by: in references, its API host, its old index host. */
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** `https://host:5000/v1/` -> `host:5000` (docker's ConvertToHostname: scheme and path dropped). */
export function hostnameOf(server: string): string {
  const bare = server.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  return bare.split('/')[0] ?? '';
}

/** True when `server` (a host, key or URL) is Docker Hub. */
export function isDockerHub(server: string): boolean {
  return server.trim() === '' || HUB_HOSTS.has(hostnameOf(server).toLowerCase());
}

/** The key credentials for `server` (a login argument, a reference domain or an API host) live under. */
export function registryKey(server: string): string {
  return isDockerHub(server) ? DOCKER_HUB_KEY : hostnameOf(server);
}

/** True when a key found in a config file names the same registry as `key`. */
export function sameRegistry(fileKey: string, key: string): boolean {
  return registryKey(fileKey) === key;
}
