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

/** Static (`from '...'`) and dynamic (`import('...')`) imports of a file; `typeOnly` ones are erased by tsc. */
function importsOf(file: string): { spec: string; dynamic: boolean; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; dynamic: boolean; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s(type\s)?[^'"]*?from\s+'([^']+)'/gm)) out.push({ spec: m[3]!, dynamic: false, typeOnly: !!m[2] });
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push({ spec: m[1]!, dynamic: false, typeOnly: false });
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) out.push({ spec: m[1]!, dynamic: true, typeOnly: false });
  return out;
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.ts$/, '');
};

// Higher imports lower, never the reverse. archive writes through the store's blob staging, so it
// sits just above store; reference, image, errors and text (escaping) are leaves everyone may use.
const RANK: Record<string, number> = {
  index: 9, cli: 8, server: 7, ops: 7, copy: 6, archive: 5, registry: 5, store: 4, config: 4, transport: 3,
  image: 1, reference: 0, errors: 0, text: 0,
};

// conf is the writer of the credentials file only: settings and credentials are read as plain
// JSON, so that no command pays for loading conf (and ajv) just to read them.
const OWNERS: Record<string, string[]> = {
  commander: ['cli'], chalk: ['cli'], ora: ['cli'], undici: ['transport'], conf: ['config/credentials-file'], 'tar-stream': ['archive', 'ops/import'],
  bcryptjs: ['server/htpasswd'], yaml: ['server/config-file'],
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

  /** What loading `entry` loads (static imports, not dynamic or type-only ones). */
  const closure = (entry: string): Set<string> => {
    const seen = new Set<string>();
    const walk = (f: string): void => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const { spec, dynamic, typeOnly } of importsOf(f)) {
        if (dynamic || typeOnly) continue;
        if (spec.startsWith('.')) walk(resolveLocal(f, spec));
        else seen.add(`pkg:${spec}`);
      }
    };
    walk(entry);
    return seen;
  };
  const loadedBy = (cmd: string): string[] => [...closure(join(SRC, 'cli/main.ts')), ...closure(join(SRC, `cli/commands/${cmd}.ts`))];

  it('store-only commands statically load no HTTP, spinner, tar, colour or conf code', () => {
    for (const cmd of ['images', 'tag', 'rmi', 'inspect']) {
      const heavy = loadedBy(cmd).filter((m) => /pkg:(undici|ora|tar-stream|chalk|conf)|\/(archive|registry|transport)\//.test(m));
      expect(heavy, cmd).toEqual([]);
    }
  });

  it('push and pull load conf only to write credentials (login), and chalk only to print an error', () => {
    for (const cmd of ['push', 'pull']) {
      expect(loadedBy(cmd).filter((m) => /pkg:(conf|chalk)$/.test(m)), cmd).toEqual([]);
    }
  });
});
