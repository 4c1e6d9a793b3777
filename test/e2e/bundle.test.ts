// What ships is the rolldown bundle (dist/bundle, run by bin/ts-docker.js): it must keep the
// rule test/unit/architecture.test.ts checks on the sources, i.e. a store-only command loads no
// HTTP, spinner, tar, colour or conf code, and `push` loads no conf and no colour code. A chunk
// is loaded by a `require("./x.cjs")` at its top; `() => require(...)` is a lazy import.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, requireBuilt, runCli } from '../helpers/cli.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'bundle');

/** The chunk files the entry reaches through static requires, the entry included. */
function loadedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(BUNDLE, file), 'utf8');
    for (const m of text.matchAll(/(=>\s*)?require\("\.\/([^"]+\.cjs)"\)/g)) if (!m[1]) walk(m[2]!);
  };
  walk(entry);
  return seen;
}

/** The chunk of the current build that holds a source module (rolldown marks each with `// dist/...`). */
function chunkOf(module: string, entry: Set<string>): string {
  const all = [...entry].flatMap((f) => [...readFileSync(join(BUNDLE, f), 'utf8').matchAll(/require\("\.\/([^"]+\.cjs)"\)/g)].map((m) => m[1]!));
  const found = all.find((f) => readFileSync(join(BUNDLE, f), 'utf8').includes(`\n// ${module}\n`));
  if (!found) throw new Error(`no chunk of ${[...entry].join(', ')} holds ${module}`);
  return found;
}

/** The third-party packages whose code the given chunks hold. */
function packagesIn(files: Iterable<string>): string[] {
  const pkgs = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(BUNDLE, f), 'utf8').matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) pkgs.add(m[1]!);
  }
  return [...pkgs].sort();
}

describe('the bundled CLI', () => {
  it('runs from bin/ts-docker.js', async () => {
    requireBuilt();
    expect(readdirSync(BUNDLE)).toContain('main.cjs');
    const r = await runCli(['version', '--format', '{{.Client.Version}}']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('store-only commands load no undici, ora, tar-stream, chalk or conf; push loads no chalk or conf', () => {
    requireBuilt();
    const main = loadedFrom('main.cjs');
    for (const cmd of ['images', 'tag', 'rmi', 'inspect']) {
      const files = new Set([...main, ...loadedFrom(chunkOf(`dist/cli/commands/${cmd}.js`, main))]);
      expect(packagesIn(files).filter((p) => ['undici', 'ora', 'tar-stream', 'chalk', 'conf'].includes(p)), cmd).toEqual([]);
    }
    const push = new Set([...main, ...loadedFrom(chunkOf('dist/cli/commands/push.js', main))]);
    expect(packagesIn(push)).toContain('undici');
    expect(packagesIn(push).filter((p) => ['chalk', 'conf', 'ajv'].includes(p))).toEqual([]);
  });
});
