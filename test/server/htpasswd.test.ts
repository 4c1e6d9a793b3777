// The built-in registry's htpasswd file (src/server/htpasswd.ts) on files written by the real
// `htpasswd -B`: which entries it takes, and that a push's hundreds of requests cost one bcrypt
// check per user (counted on bcryptjs itself), not one each, until the file changes.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Htpasswd, parseHtpasswd } from '../../src/server/htpasswd.js';
import { makeSandbox } from '../helpers/cli.js';
import { htpasswdEntry } from '../helpers/registry.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseHtpasswd', () => {
  it("takes htpasswd -B's $2y$ entries and the $2a$/$2b$ spellings of the same hash, skipping comments and blank lines", async () => {
    const line = (await htpasswdEntry('alice', 'pw')).trim();
    const hash = line.slice('alice:'.length);
    const entries = parseHtpasswd(`# users\n\n${line}\nbob:$2a$${hash.slice(4)}\ncarol:$2b$${hash.slice(4)}\n  \n`, 'f');
    expect([...entries.keys()]).toEqual(['alice', 'bob', 'carol']);
    for (const user of ['alice', 'bob', 'carol']) expect(await bcrypt.compare('pw', entries.get(user)!)).toBe(true);
  });

  it.each([
    ['carol:$apr1$MSFzDNse$gKbmkbo34Iu0dnSNdi27I/', 'an MD5 ($apr1$, htpasswd -m) hash'],
    ['dan:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=', 'a SHA-1 ({SHA}, htpasswd -s) hash'],
    ['eve:zyqQDIjdNFxF2', 'a crypt (htpasswd -d) hash'],
    ['frank:$2y$05$short', 'a malformed bcrypt hash'],
    ['gina:secret', 'a plain-text or unknown hash'],
  ])('refuses %s, naming the line and the kind but not the hash', (entry, kind) => {
    const [user, hash] = entry.split(/:(.*)/) as [string, string];
    expect(() => parseHtpasswd(`# first\n${entry}\n`, '/etc/htpasswd')).toThrow(
      `htpasswd file /etc/htpasswd line 2: user "${user}" has ${kind}; only bcrypt is supported (write it with htpasswd -B)`,
    );
    try {
      parseHtpasswd(entry, 'f');
    } catch (e) {
      expect((e as Error).message).not.toContain(hash);
    }
  });

  it('a line without a colon', () => {
    expect(() => parseHtpasswd('alice\n', 'f')).toThrow('htpasswd file f line 1: expected USER:HASH');
  });
});

describe('Htpasswd.verify', () => {
  it('checks with bcrypt once per user and password, then from the cache; a changed file is read again', async () => {
    const file = join(await makeSandbox(), 'htpasswd');
    await writeFile(file, (await htpasswdEntry('alice', 'first')) + (await htpasswdEntry('bob', 'bobpw')));
    const log: string[] = [];
    const h = await Htpasswd.load(file, (l) => log.push(l));
    const compare = vi.spyOn(bcrypt, 'compare');

    // 50 requests of a push, 10 of them at the same moment: one bcrypt.
    expect(await Promise.all(Array.from({ length: 10 }, () => h.verify('alice', 'first')))).toEqual(Array(10).fill(true));
    for (let i = 0; i < 40; i++) expect(await h.verify('alice', 'first')).toBe(true);
    expect(compare).toHaveBeenCalledTimes(1);

    // A wrong password is never cached as right, and never makes the right one fail.
    expect(await h.verify('alice', 'wrong')).toBe(false);
    expect(await h.verify('alice', 'first')).toBe(true);
    expect(await h.verify('mallory', 'first')).toBe(false);
    expect(await h.verify('bob', 'bobpw')).toBe(true);
    expect(await h.verify('bob', 'bobpw')).toBe(true);
    compare.mockClear();

    // A new password for alice, written the way editors and `htpasswd` replace files.
    await writeFile(`${file}.new`, await htpasswdEntry('alice', 'second'));
    await rename(`${file}.new`, file);
    expect(await h.verify('alice', 'first')).toBe(false);
    expect(await h.verify('alice', 'second')).toBe(true);
    expect(await h.verify('bob', 'bobpw')).toBe(false);
    expect(log).toEqual([`htpasswd file ${file} changed: re-read (1 user)`]);
  });

  it('a file that turns bad refuses everyone (logged once) until it is fixed', async () => {
    const file = join(await makeSandbox(), 'htpasswd');
    const good = await htpasswdEntry('alice', 'pw');
    await writeFile(file, good);
    const log: string[] = [];
    const h = await Htpasswd.load(file, (l) => log.push(l));
    expect(await h.verify('alice', 'pw')).toBe(true);
    await writeFile(file, `${good}carol:$apr1$MSFzDNse$gKbmkbo34Iu0dnSNdi27I/\n`);
    expect(await h.verify('alice', 'pw')).toBe(false);
    expect(await h.verify('alice', 'pw')).toBe(false);
    await writeFile(file, good);
    expect(await h.verify('alice', 'pw')).toBe(true);
    expect(log).toEqual([
      expect.stringMatching(/^error: htpasswd file .* line 2: user "carol" has an MD5 .*: every request is refused until it is fixed$/),
      `htpasswd file ${file} is valid again (1 user)`,
    ]);
  });
});
