/** Which registries are spoken to over plain HTTP: docker's defaults plus configured ones. */
import { isIP } from 'node:net';

/** True for `localhost`, `127.0.0.0/8` and `::1` (with or without a port), as docker treats them. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** The URL scheme for a registry host. */
export function schemeFor(host: string, insecureRegistries: readonly string[] = []): 'http' | 'https' {
  const bare = host.replace(/:\d+$/, '');
  return isLoopbackHost(host) || insecureRegistries.includes(host) || insecureRegistries.includes(bare) ? 'http' : 'https';
}
