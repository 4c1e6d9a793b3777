/**
 * Our own cases: the project's origin references, docker's exact error texts, the length limit
 * boundaries, upstream quirks we keep on purpose, and robustness checks.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DOMAIN,
  LEGACY_DEFAULT_DOMAIN,
  NAME_TOTAL_LENGTH_MAX,
  OFFICIAL_REPO_PREFIX,
  ReferenceFormatError,
  digestError,
  familiarMatch,
  isFullIdentifier,
  isNameOnly,
  parse,
  parseAnyReference,
  parseDockerRef,
  parseReference,
  splitDockerDomain,
  trimNamed,
  withDefaultTag,
  withDigest,
  withName,
  withTag,
} from '../../../src/reference/index.js';

const HEX = 'e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
const DIGEST = `sha256:${HEX}`;

/** Runs `fn`, expecting a ReferenceFormatError, and returns its message. */
function formatErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ReferenceFormatError);
    return (e as Error).message;
  }
  throw new Error('expected a ReferenceFormatError, nothing was thrown');
}

describe('constants', () => {
  it('match upstream', () => {
    expect([DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX, NAME_TOTAL_LENGTH_MAX]).toEqual([
      'docker.io',
      'index.docker.io',
      'library/',
      255,
    ]);
  });
});

describe('the project origin references', () => {
  it('apa000ex22 normalizes onto Docker Hub library/', () => {
    const ref = parseReference('apa000ex22');
    expect(ref).toMatchObject({ domain: 'docker.io', path: 'library/apa000ex22' });
    expect(ref.tag).toBeUndefined();
    expect(ref.digest).toBeUndefined();
    expect(ref.name).toBe('docker.io/library/apa000ex22');
    expect(ref.full).toBe('docker.io/library/apa000ex22');
    expect(ref.familiarName).toBe('apa000ex22');
    expect(ref.familiar).toBe('apa000ex22');

    const tagged = withDefaultTag(ref);
    expect(tagged.full).toBe('docker.io/library/apa000ex22:latest');
    expect(tagged.familiar).toBe('apa000ex22:latest');
    expect(parseDockerRef('apa000ex22').full).toBe('docker.io/library/apa000ex22:latest');
    expect(parseDockerRef('apa000ex22').familiar).toBe('apa000ex22:latest');
  });

  it('zoozoo.coomm/nyapacchi:13 keeps its registry', () => {
    const ref = parseReference('zoozoo.coomm/nyapacchi:13');
    expect([ref.domain, ref.path, ref.tag, ref.digest]).toEqual(['zoozoo.coomm', 'nyapacchi', '13', undefined]);
    expect(ref.name).toBe('zoozoo.coomm/nyapacchi');
    expect(ref.full).toBe('zoozoo.coomm/nyapacchi:13');
    expect(ref.familiar).toBe('zoozoo.coomm/nyapacchi:13');
    expect(ref.familiarName).toBe('zoozoo.coomm/nyapacchi');
    expect(parseDockerRef('zoozoo.coomm/nyapacchi:13').full).toBe('zoozoo.coomm/nyapacchi:13');
  });

  it('localhost:5000/nyapacchi:13 is a registry with a port', () => {
    const ref = parseReference('localhost:5000/nyapacchi:13');
    expect([ref.domain, ref.path, ref.tag]).toEqual(['localhost:5000', 'nyapacchi', '13']);
    expect(ref.full).toBe('localhost:5000/nyapacchi:13');
    expect(ref.familiar).toBe('localhost:5000/nyapacchi:13');
    expect(ref.familiarName).toBe('localhost:5000/nyapacchi');
    expect(parseReference('localhost:5000/a').familiarName).toBe('localhost:5000/a');
  });

  it.each([
    ['Foo', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['a::b', 'invalid reference format'],
    ['a'.repeat(256), 'repository name must not be more than 255 characters'],
  ])('%s -> %s', (input, message) => {
    expect(formatErrorOf(() => parseReference(input))).toBe(message);
    expect(formatErrorOf(() => parseDockerRef(input))).toBe(message);
  });
});

describe('parseReference error messages (docker text)', () => {
  it.each([
    ['', 'invalid reference format'],
    [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
    ['ubuntu:', 'invalid reference format'],
    ['ubuntu:-x', 'invalid reference format'],
    [`ubuntu:${'t'.repeat(129)}`, 'invalid reference format'],
    ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
    ['docker.io/Foo:Bar', 'invalid reference format: repository name (library/Foo) must be lowercase'],
    ['example.com/Foo/bar', 'invalid reference format: repository name (Foo/bar) must be lowercase'],
    ['https://github.com/docker/docker', 'invalid reference format'],
    ['foo@sha256:abc', 'invalid reference format'],
    [`foo@sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
    [`foo@sha256:${'a'.repeat(65)}`, 'invalid checksum digest length'],
    [`foo@sha256:${'A'.repeat(64)}`, 'invalid checksum digest format'],
    [`foo@sha512:${'a'.repeat(64)}`, 'invalid checksum digest length'],
    [`foo@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    // Upstream quirk: the lowercase check cuts the remainder at its first ':' even inside a digest.
    [`foo@SHA256:${HEX}`, 'invalid reference format: repository name (library/foo@SHA256) must be lowercase'],
  ])('%s -> %s', (input, message) => {
    expect(formatErrorOf(() => parseReference(input))).toBe(message);
  });

  it('ReferenceFormatError carries code and exit code', () => {
    let err: unknown;
    try {
      parseReference('a::b');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(ReferenceFormatError);
    expect(err).toMatchObject({ name: 'ReferenceFormatError', code: 'INVALID_REFERENCE', exitCode: 1, message: 'invalid reference format' });
  });
});

describe('the 255-character limit applies to the path (upstream PR #9)', () => {
  it.each([
    ['a'.repeat(247), true], // library/ + 247 = 255
    ['a'.repeat(248), false],
    [`user/${'a'.repeat(250)}`, true], // 255
    [`user/${'a'.repeat(251)}`, false],
    [`example.com/${'a'.repeat(255)}`, true], // the domain does not count
    [`example.com/${'a'.repeat(256)}`, false],
    [`example.com/${'a'.repeat(255)}:tag@${DIGEST}`, true], // nor do tag and digest
  ])('%#: valid=%s', (input, ok) => {
    if (ok) expect(parseReference(input).path.length).toBeLessThanOrEqual(255);
    else expect(formatErrorOf(() => parseReference(input))).toBe('repository name must not be more than 255 characters');
  });
});

describe('normalization rules', () => {
  it.each([
    ['ubuntu', 'docker.io', 'library/ubuntu', 'docker.io/library/ubuntu', 'ubuntu'],
    ['ubuntu:22.04', 'docker.io', 'library/ubuntu', 'docker.io/library/ubuntu:22.04', 'ubuntu:22.04'],
    ['index.docker.io/foo', 'docker.io', 'library/foo', 'docker.io/library/foo', 'foo'],
    ['index.docker.io/user/app:1', 'docker.io', 'user/app', 'docker.io/user/app:1', 'user/app:1'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar'],
    [`user/app@${DIGEST}`, 'docker.io', 'user/app', `docker.io/user/app@${DIGEST}`, `user/app@${DIGEST}`],
    [`ubuntu:1@${DIGEST}`, 'docker.io', 'library/ubuntu', `docker.io/library/ubuntu:1@${DIGEST}`, `ubuntu:1@${DIGEST}`],
    ['localhost/foo', 'localhost', 'foo', 'localhost/foo', 'localhost/foo'],
    ['Foo/bar', 'Foo', 'bar', 'Foo/bar', 'Foo/bar'], // a non-lowercase first component is a domain
    ['LOCALHOST/bar', 'LOCALHOST', 'bar', 'LOCALHOST/bar', 'LOCALHOST/bar'],
    ['example.com/foo', 'example.com', 'foo', 'example.com/foo', 'example.com/foo'], // no library/ off Docker Hub
    ['[::1]:5000/foo:v1', '[::1]:5000', 'foo', '[::1]:5000/foo:v1', '[::1]:5000/foo:v1'],
    // Upstream FIXME, kept: a bare "localhost" or "localhost:5000" is a Docker Hub name (with a tag).
    ['localhost', 'docker.io', 'library/localhost', 'docker.io/library/localhost', 'localhost'],
    ['localhost:5000', 'docker.io', 'library/localhost', 'docker.io/library/localhost:5000', 'localhost:5000'],
  ])('%s', (input, domain, path, full, familiar) => {
    const ref = parseReference(input);
    expect([ref.domain, ref.path, ref.full, ref.familiar]).toEqual([domain, path, full, familiar]);
  });

  it.each([
    ['foo', ['docker.io', 'library/foo']],
    ['foo:tag', ['docker.io', 'library/foo:tag']],
    ['user/foo', ['docker.io', 'user/foo']],
    ['docker.io/foo', ['docker.io', 'library/foo']],
    ['index.docker.io/user/foo', ['docker.io', 'user/foo']],
    ['localhost/foo', ['localhost', 'foo']],
    ['localhost:5000/a/b', ['localhost:5000', 'a/b']],
    ['Foo/bar', ['Foo', 'bar']],
    ['127.0.0.1/x', ['127.0.0.1', 'x']],
  ])('splitDockerDomain(%s)', (input, expected) => {
    expect(splitDockerDomain(input)).toEqual(expected);
  });

  it('uses Go lowercasing (U+0130 lowercases to a plain i)', () => {
    expect(formatErrorOf(() => parse('İmage'))).toBe('repository name must be lowercase');
    expect(formatErrorOf(() => parseReference('İmage'))).toBe('invalid reference format: repository name (library/İmage) must be lowercase');
  });
});

describe('parseDockerRef / withDefaultTag', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`busybox:1.36@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`localhost:5000/x:y@${DIGEST}`, `localhost:5000/x@${DIGEST}`, `localhost:5000/x@${DIGEST}`],
  ])('%s', (input, full, familiar) => {
    const ref = parseDockerRef(input);
    expect(ref.full).toBe(full);
    expect(ref.familiar).toBe(familiar);
  });

  it('drops the tag when there is a digest', () => {
    const ref = parseDockerRef(`busybox:1.36@${DIGEST}`);
    expect(ref.tag).toBeUndefined();
    expect('tag' in ref).toBe(false);
    expect(ref.digest).toBe(DIGEST);
  });

  it('withDefaultTag only fills in a missing tag', () => {
    expect(withDefaultTag(parseReference('a')).tag).toBe('latest');
    expect(withDefaultTag(parseReference('a:b')).full).toBe('docker.io/library/a:b');
    expect(withDefaultTag(parseReference(`a@${DIGEST}`)).full).toBe(`docker.io/library/a@${DIGEST}`);
  });

  it('does not mutate its input', () => {
    const ref = parseReference('a');
    withDefaultTag(ref);
    expect(ref.tag).toBeUndefined();
  });
});

describe('parseAnyReference / isFullIdentifier', () => {
  it.each([
    [HEX, { id: DIGEST }],
    [DIGEST, { id: DIGEST }],
    [`sha512:${'0'.repeat(128)}`, { id: `sha512:${'0'.repeat(128)}` }],
  ])('%s is an image ID', (input, expected) => {
    expect(parseAnyReference(input)).toEqual(expected);
  });

  it('a short or uppercase hex string is a name', () => {
    expect(parseAnyReference(HEX.slice(0, 12))).toMatchObject({ path: `library/${HEX.slice(0, 12)}` });
    // "sha256:<63 hex>" is not a digest, so it is the repository "sha256" with a 63-character tag.
    expect(parseAnyReference(`sha256:${HEX.slice(1)}`)).toMatchObject({ path: 'library/sha256', tag: HEX.slice(1) });
    expect(() => parseAnyReference(HEX.toUpperCase())).toThrow(ReferenceFormatError);
  });

  it.each([
    [HEX, true],
    [HEX.toUpperCase(), false],
    [HEX.slice(1), false],
    [`${HEX}0`, false],
    [DIGEST, false],
  ])('isFullIdentifier(%s) = %s', (input, expected) => {
    expect(isFullIdentifier(input)).toBe(expected);
  });
});

describe('digestError (go-digest v1.0.0 Validate)', () => {
  it.each([
    [DIGEST, undefined],
    [`sha384:${'a'.repeat(96)}`, undefined],
    ['sha256', 'invalid checksum digest format'],
    [':abc', 'invalid checksum digest format'],
    ['sha256:', 'invalid checksum digest format'],
    [`sha256:${'a'.repeat(63)}`, 'invalid checksum digest length'],
    [`sha256:${'g'.repeat(64)}`, 'invalid checksum digest format'],
    ['md5:abcd', 'unsupported digest algorithm'],
    ['MD5:abcd', 'invalid checksum digest format'],
    ['toString:abcd', 'invalid checksum digest format'],
    ['constructor:abcd', 'unsupported digest algorithm'],
  ])('%s -> %s', (input, expected) => {
    expect(digestError(input)).toBe(expected);
  });
});

describe('withName / withTag / withDigest / trimNamed / isNameOnly', () => {
  it('build references without normalizing', () => {
    const named = withName('ubuntu');
    expect([named.domain, named.path, named.full]).toEqual(['', 'ubuntu', 'ubuntu']);
    const tagged = withTag(parseReference('ubuntu'), 'v1');
    expect(tagged.full).toBe('docker.io/library/ubuntu:v1');
    const both = withDigest(tagged, DIGEST);
    expect(both.full).toBe(`docker.io/library/ubuntu:v1@${DIGEST}`);
    expect(trimNamed(both).full).toBe('docker.io/library/ubuntu');
    expect([isNameOnly(trimNamed(both)), isNameOnly(tagged), isNameOnly(withDigest(named, DIGEST))]).toEqual([true, false, false]);
  });

  it.each([
    ['.x', 'invalid tag format'],
    ['', 'invalid tag format'],
    ['t'.repeat(129), 'invalid tag format'],
  ])('withTag(%s) fails', (tag, message) => {
    expect(formatErrorOf(() => withTag(parseReference('a'), tag))).toBe(message);
  });

  it('accepts a 128-character tag', () => {
    expect(withTag(parseReference('a'), 't'.repeat(128)).tag).toHaveLength(128);
  });

  it.each(['foo', 'sha256:abc', `sha256:${HEX}!`])('withDigest(%s) fails', (digest) => {
    expect(formatErrorOf(() => withDigest(parseReference('a'), digest))).toBe('invalid digest format');
  });
});

describe('familiarMatch', () => {
  it.each([
    ['ubuntu', 'ubuntu', true],
    ['ubuntu:*', 'ubuntu:22.04', true],
    ['ubuntu', 'ubuntu:22.04', true], // falls back to the familiar name
    ['docker.io/library/ubuntu', 'ubuntu', false], // matched against familiar forms only
    ['zoozoo.coomm/*', 'zoozoo.coomm/nyapacchi:13', true],
    ['*', 'user/app', false], // '*' does not cross '/'
    [`sha256:${HEX.slice(0, 4)}*`, HEX, true], // image IDs match by their digest
  ])('%s ~ %s = %s', (pattern, input, expected) => {
    expect(familiarMatch(pattern, parseAnyReference(input))).toBe(expected);
  });
});

describe('robustness', () => {
  /** Small deterministic PRNG (mulberry32). */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('random inputs either parse to a stable reference or throw ReferenceFormatError', () => {
    const alphabet = 'abcAB019-_.:/@[]%İ ';
    const next = rng(42);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(next() * 24);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(next() * alphabet.length)];
      let ref;
      try {
        ref = parseReference(s);
      } catch (e) {
        expect(e).toBeInstanceOf(ReferenceFormatError);
        continue;
      }
      parsed++;
      // Normalization is idempotent and the full form is valid for the bare grammar too.
      expect(parseReference(ref.full).full).toBe(ref.full);
      expect(parse(ref.full).full).toBe(ref.full);
    }
    expect(parsed).toBeGreaterThan(50);
  });

  it.each([
    ['a'.repeat(20000) + '!'],
    ['a' + '-'.repeat(20000)],
    ['a.'.repeat(10000) + 'a:'],
    ['a/'.repeat(10000) + 'A'],
    ['[' + ':'.repeat(20000)],
    ['a:' + 'b'.repeat(20000)],
  ])('long hostile input %# fails fast', (input) => {
    const start = performance.now();
    expect(() => parseReference(input)).toThrow(ReferenceFormatError);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
