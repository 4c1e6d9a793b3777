/** Images for the auth tests, made with ts-docker's own `import` into a temp store. */
import { randomBytes } from 'node:crypto';
import { makeRootfsDir, runOk } from '../../helpers/cli.js';

/** Imports a one-layer image named `name` into `root` whose layer holds about `bytes` of incompressible data. */
export async function bigImage(root: string, name: string, bytes: number): Promise<void> {
  // base64 of random bytes: gzip cannot shrink it below about 3/4, so the layer stays big.
  const dir = await makeRootfsDir({ 'data/blob.txt': randomBytes(Math.ceil(bytes / 4) * 3).toString('base64') });
  await runOk(['import', dir, name], { root });
}
