/** The package version, read from package.json beside dist/. */
import { readFileSync } from 'node:fs';

/** ts-docker's version string. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
