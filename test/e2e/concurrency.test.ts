// Two processes tagging into one store at the same time never lose an index.json entry.
import { describe, expect, it } from 'vitest';
import { BIN, expectExit, lines, loadFixture, makeRoot, readIndex, runCli, sh } from '../helpers/cli.js';
import { checkLayout } from '../helpers/layout.js';

const N = 100;

/** A bash loop of N sequential `tag` calls; exits with the number of failed calls. */
function loop(root: string, prefix: string): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    'fails=0',
    `for i in $(seq 0 ${N - 1}); do`,
    `  ${q(process.execPath)} ${q(BIN)} --root ${q(root)} tag apa000ex22 ${prefix}$i || fails=$((fails+1))`,
    'done',
    'exit $fails',
  ].join('\n');
}

describe('concurrent writers', () => {
  it(`two processes each tagging ${N} names: all ${2 * N} names survive`, { timeout: 600_000 }, async () => {
    const root = await makeRoot();
    const id = await loadFixture(root);
    const env = { NO_COLOR: '1' };
    const [a, b] = await Promise.all([
      sh('bash', ['-c', loop(root, 'a')], { env, timeoutMs: 580_000 }),
      sh('bash', ['-c', loop(root, 'b')], { env, timeoutMs: 580_000 }),
    ]);
    expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: '' });
    expect({ code: b.code, stderr: b.stderr }).toEqual({ code: 0, stderr: '' });

    const expected = ['apa000ex22', ...Array.from({ length: N }, (_, i) => `a${i}`), ...Array.from({ length: N }, (_, i) => `b${i}`)].sort();
    const r = await runCli(['images', '--format', '{{.Repository}}'], { root });
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual(expected);

    const index = await readIndex(root); // parses
    const names = (index.manifests ?? []).map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
    expect(names).toHaveLength(2 * N + 1);
    expect(new Set(names).size).toBe(2 * N + 1);
    expect(new Set((index.manifests ?? []).map((m) => m.digest)).size).toBe(1);
    expect(await checkLayout(root)).toMatchObject({ missing: [], corrupt: [], unreferenced: [] });
    const q = await runCli(['images', '-q'], { root });
    expect(new Set(lines(q.stdout))).toEqual(new Set([id.slice(7, 19)]));
  });
});
