/**
 * The house rules of DESIGN 1, read from the imports: arrows point down the layer list, each
 * third-party dependency has one owner, and store-only commands load no HTTP, spinner or tar code.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Static (`from '...'`) and dynamic (`import('...')`) imports of a file. */
function importsOf(file: string): { spec: string; dynamic: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; dynamic: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push({ spec: m[1]!, dynamic: true });
  return out;
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
};

// Higher imports lower, never the reverse. archive writes through the store's blob staging, so it
// sits just above store; reference, image and errors are leaves everyone may use.
const RANK: Record<string, number> = {
  index: 9, cli: 8, server: 7, ops: 7, copy: 6, archive: 5, registry: 5, store: 4, config: 4, transport: 3,
  image: 1, reference: 0, errors: 0,
};

const OWNERS: Record<string, string[]> = {
  commander: ['cli'], chalk: ['cli'], ora: ['cli'], undici: ['transport'], conf: ['config'], 'tar-stream': ['archive', 'ops/import'],
};

const all = files(SRC);
const resolveLocal = (from: string, spec: string): string => resolve(dirname(from), spec).replace(/\.js$/, '.ts');

describe('architecture', () => {
  it('imports point down the layers', () => {
    const wrong: string[] = [];
    for (const f of all) {
      for (const { spec } of importsOf(f)) {
        if (!spec.startsWith('.')) continue;
        const [from, to] = [layerOf(f), layerOf(resolveLocal(f, spec))];
        if (from === to) continue;
        if ((RANK[to] ?? 99) >= (RANK[from] ?? -1)) wrong.push(`${relative(SRC, f)} -> ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('each dependency has one owner', () => {
    const wrong: string[] = [];
    for (const f of all) {
      for (const { spec } of importsOf(f)) {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const owners = OWNERS[pkg];
        const rel = relative(SRC, f);
        if (owners && !owners.some((o) => rel.startsWith(`${o}/`) || rel.startsWith(o))) wrong.push(`${rel} imports ${pkg}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('store-only commands statically load no HTTP, spinner or tar code', () => {
    const closure = (entry: string): Set<string> => {
      const seen = new Set<string>();
      const walk = (f: string): void => {
        if (seen.has(f)) return;
        seen.add(f);
        for (const { spec, dynamic } of importsOf(f)) {
          if (dynamic) continue;
          if (spec.startsWith('.')) walk(resolveLocal(f, spec));
          else seen.add(`pkg:${spec}`);
        }
      };
      walk(entry);
      return seen;
    };
    for (const cmd of ['images', 'tag', 'rmi', 'inspect']) {
      const loaded = [...closure(join(SRC, 'cli/main.ts')), ...closure(join(SRC, `cli/commands/${cmd}.ts`))];
      const heavy = loaded.filter((m) => /pkg:(undici|ora|tar-stream)|\/(archive|registry|transport)\//.test(m));
      expect(heavy, cmd).toEqual([]);
    }
  });
});
