// A reader that stops early (`ts-docker images | head -1`): ts-docker ends quietly, as docker
// does (a Go program dies of SIGPIPE there: status 141 in the shell, nothing on stderr), never
// with an unhandled EPIPE stack trace.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, SCRUBBED_ENV, loadFixture, makeRoot, sh } from '../helpers/cli.js';

/** A store where the fixture has `count` names: far more `images` output than a pipe buffer (64 KiB) holds. */
async function manyNames(count: number): Promise<string> {
  const root = await makeRoot();
  await loadFixture(root);
  const indexPath = join(root, 'index.json');
  const index = JSON.parse(await readFile(indexPath, 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
  const entry = index.manifests[0]!;
  for (let i = 0; i < count; i++) {
    index.manifests.push({ ...entry, annotations: { 'org.opencontainers.image.ref.name': `docker.io/library/many-names-${i}:v${i}` } });
  }
  await writeFile(indexPath, JSON.stringify(index));
  return root;
}

describe('a closed stdout', () => {
  it('images | head -1 prints the header and ends with status 141 and nothing on stderr', async () => {
    const root = await manyNames(3000);
    const r = await sh('bash', ['-c', 'node "$0" --root "$1" images | head -1; echo "ts-docker exited ${PIPESTATUS[0]}" >&2', BIN, root], {
      env: { NO_COLOR: '1' }, unset: SCRUBBED_ENV,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n$/);
    expect(r.stderr).toBe('ts-docker exited 141\n');
  });

  it('images -q | head -1 the same', async () => {
    const root = await manyNames(6000);
    const r = await sh('bash', ['-c', 'node "$0" --root "$1" images -q --no-trunc | head -1; echo "ts-docker exited ${PIPESTATUS[0]}" >&2', BIN, root], {
      env: { NO_COLOR: '1' }, unset: SCRUBBED_ENV,
    });
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(r.stderr).toBe('ts-docker exited 141\n');
  });
});
