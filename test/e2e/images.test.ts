// `images`: docker's table, -q, --no-trunc, --digests, REPO[:TAG], --filter, --format.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CREATED_SINCE,
  FULL_ID,
  SHORT_ID,
  expectExit,
  importDir,
  lines,
  loadFixture,
  makeRoot,
  makeRootfsDir,
  manifestDigestFromStore,
  parseTable,
  runCli,
  runOk,
  short,
} from '../helpers/cli.js';

let root: string;
let id: string; // the fixture's full IMAGE ID

beforeEach(async () => {
  root = await makeRoot();
  id = await loadFixture(root);
});

const table = async (...args: string[]) => {
  const r = await runCli(['images', ...args], { root });
  expectExit(r, 0);
  return parseTable(r.stdout);
};
const names = (rows: string[][]) => rows.map((r) => `${r[0]}:${r[1]}`).sort();

describe('images', () => {
  it('shows docker columns, a humanized CREATED and a size', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const t = await table();
    expect(t.header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(names(t.rows)).toEqual(['apa000ex22:latest', 'zoozoo.coomm/nyapacchi:13']);
    for (const row of t.rows) {
      expect(row).toHaveLength(5);
      expect(row[2]).toBe(short(id));
      expect(row[3]).toMatch(CREATED_SINCE);
      expect(row[4]).toMatch(/^\d+(\.\d+)?(B|kB|MB|GB)$/);
    }
  });

  it('-a shows the same rows (no intermediate images in this store)', async () => {
    expect(names((await table('-a')).rows)).toEqual(names((await table()).rows));
  });

  it('-q prints one 12-hex id per row', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const r = await runCli(['images', '-q'], { root });
    expectExit(r, 0);
    const ids = lines(r.stdout);
    expect(ids).toHaveLength(2);
    for (const l of ids) expect(l).toMatch(SHORT_ID);
    expect(new Set(ids)).toEqual(new Set([short(id)]));
  });

  it('--no-trunc shows sha256:<64 hex>', async () => {
    const t = await table('--no-trunc');
    expect(t.header).toEqual(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]![2]).toMatch(FULL_ID);
    expect(t.rows[0]![2]).toBe(id);
  });

  it('-q --no-trunc prints full ids', async () => {
    const r = await runCli(['images', '-q', '--no-trunc'], { root });
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual([id]);
  });

  it('--digests adds a DIGEST column with the manifest digest', async () => {
    const t = await table('--digests');
    expect(t.header).toEqual(['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]![2]).toMatch(FULL_ID);
    expect(t.rows[0]![2]).toBe(await manifestDigestFromStore(root, 'docker.io/library/apa000ex22:latest'));
    expect(t.rows[0]![3]).toBe(short(id));
  });

  it('filters by REPOSITORY and by REPOSITORY:TAG', async () => {
    await runOk(['tag', 'apa000ex22', 'apa000ex22:v2'], { root });
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    expect(names((await table('apa000ex22')).rows)).toEqual(['apa000ex22:latest', 'apa000ex22:v2']);
    expect(names((await table('apa000ex22:latest')).rows)).toEqual(['apa000ex22:latest']);
    expect(names((await table('apa000ex22:v2')).rows)).toEqual(['apa000ex22:v2']);
    expect(names((await table('zoozoo.coomm/nyapacchi')).rows)).toEqual(['zoozoo.coomm/nyapacchi:13']);
    expect((await table('nosuch')).rows).toEqual([]);
    expect((await table('apa000ex22:nosuch')).rows).toEqual([]);
  });

  it('--filter reference=zoozoo*/* matches the registry-qualified name only', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    await runOk(['tag', 'apa000ex22', 'other/thing:1'], { root });
    expect(names((await table('--filter', 'reference=zoozoo*/*')).rows)).toEqual(['zoozoo.coomm/nyapacchi:13']);
    expect(names((await table('--filter', 'reference=apa000ex22')).rows)).toEqual(['apa000ex22:latest']);
    expect(names((await table('--filter', 'reference=*/*:1')).rows)).toEqual(['other/thing:1']);
  });

  it('a re-pointed name leaves the old image as a <none> <none> row; --filter dangling=true|false', async () => {
    const newId = await importDir(root, 'the new apa000ex22', 'apa000ex22:latest');
    expect(newId).not.toBe(id);
    const all = await table();
    expect(all.rows).toHaveLength(2);
    const none = all.rows.find((r) => r[0] === '<none>');
    expect(none, JSON.stringify(all.rows)).toBeDefined();
    expect(none!.slice(0, 3)).toEqual(['<none>', '<none>', short(id)]);
    const named = all.rows.find((r) => r[0] === 'apa000ex22');
    expect(named!.slice(0, 3)).toEqual(['apa000ex22', 'latest', short(newId)]);

    const dangling = await table('--filter', 'dangling=true');
    expect(dangling.rows.map((r) => r.slice(0, 3))).toEqual([['<none>', '<none>', short(id)]]);
    const notDangling = await table('--filter', 'dangling=false');
    expect(notDangling.rows.map((r) => r.slice(0, 3))).toEqual([['apa000ex22', 'latest', short(newId)]]);
  });

  it('--filter before= and since= compare creation times with a named image', async () => {
    // The fixture was created long ago; an import is created now.
    const newId = await importDir(root, 'newer', 'newer:1');
    expect(names((await table('--filter', 'since=apa000ex22')).rows)).toEqual(['newer:1']);
    expect(names((await table('--filter', 'before=newer:1')).rows)).toEqual(['apa000ex22:latest']);
    expect((await table('--filter', 'before=apa000ex22')).rows).toEqual([]);
    expect((await table('--filter', 'since=newer:1')).rows).toEqual([]);
    // By ID too.
    expect(names((await table('--filter', `since=${short(id)}`)).rows)).toEqual(['newer:1']);
    expect(names((await table('--filter', `before=${newId}`)).rows)).toEqual(['apa000ex22:latest']);
  });

  it('--filter label=KEY and label=KEY=VALUE', async () => {
    // The fixture has no labels; one imported image carries one.
    expect((await table('--filter', 'label=com.example.kind')).rows).toEqual([]);
    const labelled = await runCli(['import', '-c', 'LABEL com.example.kind=test', await makeRootfsDir({ 'etc/labelled': 'yes\n' }), 'labelled:1'], { root });
    expectExit(labelled, 0);
    expect(names((await table('--filter', 'label=com.example.kind')).rows)).toEqual(['labelled:1']);
    expect(names((await table('--filter', 'label=com.example.kind=test')).rows)).toEqual(['labelled:1']);
    expect((await table('--filter', 'label=com.example.kind=other')).rows).toEqual([]);
    expect((await table('--filter', 'label=com.example.absent')).rows).toEqual([]);
  });

  it("--format '{{.Repository}}:{{.Tag}}' prints one line per name, no header", async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const r = await runCli(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual(['apa000ex22:latest', 'zoozoo.coomm/nyapacchi:13']);
  });

  it('--format json prints one JSON object per line with docker keys', async () => {
    await runOk(['tag', 'apa000ex22', 'zoozoo.coomm/nyapacchi:13'], { root });
    const r = await runCli(['images', '--format', 'json'], { root });
    expectExit(r, 0);
    const objs = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(2);
    for (const o of objs) {
      for (const k of ['Repository', 'Tag', 'ID', 'Digest', 'CreatedSince', 'CreatedAt', 'Size']) expect(o, k).toHaveProperty(k);
      expect(o['ID']).toBe(short(id));
      expect(o['CreatedSince']).toMatch(CREATED_SINCE);
      expect(o['CreatedAt']).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4} \S+$/);
      expect(o['Size']).toMatch(/^\d+(\.\d+)?(B|kB|MB|GB)$/);
    }
    expect(objs.map((o) => `${String(o['Repository'])}:${String(o['Tag'])}`).sort()).toEqual(['apa000ex22:latest', 'zoozoo.coomm/nyapacchi:13']);
  });

  it("--format 'table {{.Repository}}\\t{{.ID}}' prints docker's headers", async () => {
    const r = await runCli(['images', '--format', 'table {{.Repository}}\t{{.ID}}'], { root });
    expectExit(r, 0);
    const t = parseTable(r.stdout);
    expect(t.header).toEqual(['REPOSITORY', 'IMAGE ID']);
    expect(t.rows).toEqual([['apa000ex22', short(id)]]);
  });

  it('an empty store prints only the header', async () => {
    const empty = await makeRoot();
    const r = await runCli(['images'], { root: empty });
    expectExit(r, 0);
    expect(parseTable(r.stdout)).toEqual({ header: ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows: [] });
  });
});
