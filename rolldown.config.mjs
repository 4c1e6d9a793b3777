// The CLI's bundle (`npm run build`, after tsc): dist/cli/main.js and everything it imports,
// third-party packages included, in a few CommonJS files under dist/bundle/ that
// bin/ts-docker.js runs.
// Why: resolving and reading ~40 of our modules plus commander's on every start was most of
// what `ts-docker tag` cost above a bare `node -e ''` (bench/README.md). The commands stay lazy:
// each dynamic import() becomes a chunk loaded only by the command that needs it. dist/index.js
// (the library) stays plain tsc output.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'rolldown';

const ROOT = dirname(fileURLToPath(import.meta.url));
const OUT = resolve(ROOT, 'dist/bundle');

/**
 * Keeps `import.meta.url` meaning "this module's file in dist/": our modules find files next to
 * themselves (`version.ts` reads ../../package.json, `run.ts` starts ../../../bin/ts-docker.js),
 * and in a bundle every module would otherwise see the chunk's URL.
 */
const moduleUrls = {
  name: 'ts-docker-module-urls',
  transform(code, id) {
    if (!id.startsWith(resolve(ROOT, 'dist')) || !code.includes('import.meta.url')) return null;
    const rel = relative(OUT, id).split('\\').join('/');
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), map: null };
  },
};

/**
 * Chunks are named by their content hash and a build does not empty dist/bundle: a process that
 * is still running from an older build (a `run -d` registry) can then still load its lazy
 * chunks. Files no build has written for an hour are removed.
 */
const pruneOld = {
  name: 'ts-docker-prune-old-chunks',
  writeBundle(_options, bundle) {
    const keep = new Set(Object.keys(bundle));
    const cutoff = Date.now() - 60 * 60 * 1000;
    for (const f of readdirSync(OUT)) {
      const p = join(OUT, f);
      if (!keep.has(f) && statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
    }
  },
};

export default defineConfig({
  input: { main: resolve(ROOT, 'dist/cli/main.js') },
  platform: 'node',
  plugins: [moduleUrls, pruneOld],
  output: {
    dir: OUT,
    // CommonJS, run from a CommonJS shim (bin/package.json): Node then starts without its ESM
    // loader, ~10 ms of every command. Strict mode as ES modules have (and as tsc's output runs).
    format: 'cjs',
    banner: '"use strict";',
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    sourcemap: false,
  },
});
