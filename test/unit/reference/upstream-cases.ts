/**
 * Upstream test tables, ported as data.
 *
 * Source: https://github.com/distribution/reference (the module moby/docker-cli vendor), files
 *   reference_test.go @ ff14fafe2236e51c2894ac07d4bdfc778e96d682 (after PR #9 "Exclude domain
 *                                    from name length check", matching reference.go @ 0965666a6ade2e06035fe352e38344be1e68951a)
 *   normalize_test.go @ 4894124079e525c3c3c5c8aacaa653b5499004e9 (matching normalize.go @ aeed5e66379bfcdf3b4c1393f132f90096bf7f8d)
 *   regexp_test.go    @ 00a09fa3799203fc887e667b0d82142ee831939a (matching regexp.go at the same commit)
 * plus the Go standard library's path.Match table (golang/go src/path/match_test.go
 * @ 1b54bfdf578d39ccd33157465c61eb9be57db3f6), since FamiliarMatch is built on path.Match.
 *
 * Go error values are written as their message text:
 *   ErrNameEmpty              'repository name must have at least one component'
 *   ErrReferenceInvalidFormat 'invalid reference format'
 *   ErrNameContainsUppercase  'repository name must be lowercase'
 *   ErrNameTooLong            'repository name must not be more than 255 characters'
 *   ErrNameNotCanonical       'repository name must be canonical'
 *   digest.ErrDigestInvalidLength 'invalid checksum digest length'   (go-digest v1.0.0, pinned by upstream go.mod)
 *   digest.ErrDigestUnsupported   'unsupported digest algorithm'
 *   path.ErrBadPattern            'syntax error in pattern'
 */

const F64 = 'f'.repeat(64);
const F128 = 'f'.repeat(128);

// ---------------------------------------------------------------------------------------------
// reference_test.go
// ---------------------------------------------------------------------------------------------

/** TestReferenceParse: upstream Parse (no normalization) -> our `parse`. */
export interface ReferenceParseCase {
  input: string;
  /** Expected error message, or absent for success. */
  err?: string;
  /** Expected Name(). */
  repository?: string;
  /** Expected Domain(); '' when none. */
  domain?: string;
  tag?: string;
  digest?: string;
}

export const referenceParseCases: ReferenceParseCase[] = [
  { input: 'test_com', repository: 'test_com' },
  { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
  { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
  { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
  { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
  { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
  { input: `test:5000/repo@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', digest: `sha256:${F64}` },
  { input: `test:5000/repo:tag@sha256:${F64}`, domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag', digest: `sha256:${F64}` },
  { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
  { input: '', err: 'repository name must have at least one component' },
  { input: ':justtag', err: 'invalid reference format' },
  { input: `@sha256:${F64}`, err: 'invalid reference format' },
  { input: 'repo@sha256:ffffffffffffffffffffffffffffffffff', err: 'invalid checksum digest length' },
  { input: `validname@invaliddigest:${F64}`, err: 'unsupported digest algorithm' },
  { input: 'Uppercase:tag', err: 'repository name must be lowercase' },
  // Upstream keeps "Uppercase/lowercase:tag" commented out (FIXME: "Uppercase" is taken as a domain, so it passes).
  { input: 'test:5000/Uppercase/lowercase:tag', err: 'repository name must be lowercase' },
  { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
  { input: `domain/${'a'.repeat(256)}:tag`, err: 'repository name must not be more than 255 characters' },
  {
    input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    domain: 'a',
    repository: `${'a/'.repeat(127)}a`,
    tag: 'tag-puts-this-over-max',
  },
  { input: 'aa/asdf$$^/aa', err: 'invalid reference format' },
  { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
  {
    input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    domain: 'sub-dom1.foo.com',
    repository: 'sub-dom1.foo.com/bar/baz/quux',
    tag: 'some-long-tag',
  },
  {
    input: 'b.gcr.io/test.example.com/my-app:test.example.com',
    domain: 'b.gcr.io',
    repository: 'b.gcr.io/test.example.com/my-app',
    tag: 'test.example.com',
  },
  // ☃.com in punycode
  { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
  // 🐳.com in punycode
  {
    input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`,
    domain: 'xn--7o8h.com',
    repository: 'xn--7o8h.com/myimage',
    tag: 'xn--7o8h.com',
    digest: `sha512:${F128}`,
  },
  { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', repository: '192.168.1.1' },
  { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
  { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
  { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
  { input: '[2001:db8::1]', err: 'invalid reference format' },
  { input: '[2001:db8::1]:5000', err: 'invalid reference format' },
  { input: '[2001:db8::1]:tag', err: 'invalid reference format' },
  { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', repository: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
  { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
  { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo', tag: 'tag' },
  {
    input: `[2001:db8::1]:5000/repo@sha256:${F64}`,
    domain: '[2001:db8::1]:5000',
    repository: '[2001:db8::1]:5000/repo',
    digest: `sha256:${F64}`,
  },
  {
    input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`,
    domain: '[2001:db8::1]:5000',
    repository: '[2001:db8::1]:5000/repo',
    tag: 'tag',
    digest: `sha256:${F64}`,
  },
  { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
  { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
  { input: '[fe80::1%eth0]:5000/repo', err: 'invalid reference format' },
  { input: '[fe80::1%@invalidzone]:5000/repo', err: 'invalid reference format' },
  {
    input: `example.com/${'a'.repeat(255)}:tag`,
    domain: 'example.com',
    repository: `example.com/${'a'.repeat(255)}`,
    tag: 'tag',
  },
];

/** TestWithNameFailure: upstream WithName -> our `withName`, each must fail with `err`. */
export const withNameFailureCases: { input: string; err: string }[] = [
  { input: '', err: 'invalid reference format' },
  { input: ':justtag', err: 'invalid reference format' },
  { input: `@sha256:${F64}`, err: 'invalid reference format' },
  { input: `validname@invaliddigest:${F64}`, err: 'invalid reference format' },
  { input: 'example.com/repo:tag', err: 'invalid reference format' },
  { input: `example.com/${'a'.repeat(256)}`, err: 'repository name must not be more than 255 characters' },
  { input: 'aa/asdf$$^/aa', err: 'invalid reference format' },
];

/** TestDomainAndPath: upstream WithName + Domain/Path. */
export const domainAndPathCases: { input: string; domain: string; path: string }[] = [
  { input: 'test.com/foo', domain: 'test.com', path: 'foo' },
  { input: 'test_com/foo', domain: '', path: 'test_com/foo' },
  { input: 'test:8080/foo', domain: 'test:8080', path: 'foo' },
  { input: 'test.com:8080/foo', domain: 'test.com:8080', path: 'foo' },
  { input: 'test-com:8080/foo', domain: 'test-com:8080', path: 'foo' },
  { input: 'xn--n3h.com:18080/foo', domain: 'xn--n3h.com:18080', path: 'foo' },
];

/**
 * TestSerialization. Upstream round-trips a JSON-encoded `reference.Field` (Go-only API);
 * adapted: the same inputs through `parse`, checking name/tag/digest and that `full` gives the input back.
 */
export const serializationCases: { description: string; input: string; name?: string; tag?: string; digest?: string; err?: string }[] = [
  { description: 'empty value', input: '', err: 'repository name must have at least one component' },
  { description: 'just a name', input: 'example.com:8000/named', name: 'example.com:8000/named' },
  { description: 'name with a tag', input: 'example.com:8000/named:tagged', name: 'example.com:8000/named', tag: 'tagged' },
  {
    description: 'name with digest',
    input: 'other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112',
    name: 'other.com/named',
    digest: 'sha256:1234567890098765432112345667890098765432112345667890098765432112',
  },
];

/** TestWithTag: withName(name) [+ withDigest(digest)] + withTag(tag) -> `combined`. */
export const withTagCases: { name: string; digest?: string; tag: string; combined: string }[] = [
  { name: 'test.com/foo', tag: 'tag', combined: 'test.com/foo:tag' },
  { name: 'foo', tag: 'tag2', combined: 'foo:tag2' },
  { name: 'test.com:8000/foo', tag: 'tag4', combined: 'test.com:8000/foo:tag4' },
  { name: 'test.com:8000/foo', tag: 'TAG5', combined: 'test.com:8000/foo:TAG5' },
  {
    name: 'test.com:8000/foo',
    digest: 'sha256:1234567890098765432112345667890098765',
    tag: 'TAG5',
    combined: 'test.com:8000/foo:TAG5@sha256:1234567890098765432112345667890098765',
  },
];

/** TestWithDigest: withName(name) [+ withTag(tag)] + withDigest(digest) -> `combined`. */
export const withDigestCases: { name: string; digest: string; tag?: string; combined: string }[] = [
  {
    name: 'test.com/foo',
    digest: 'sha256:1234567890098765432112345667890098765',
    combined: 'test.com/foo@sha256:1234567890098765432112345667890098765',
  },
  { name: 'foo', digest: 'sha256:1234567890098765432112345667890098765', combined: 'foo@sha256:1234567890098765432112345667890098765' },
  {
    name: 'test.com:8000/foo',
    digest: 'sha256:1234567890098765432112345667890098765',
    combined: 'test.com:8000/foo@sha256:1234567890098765432112345667890098765',
  },
  {
    name: 'test.com:8000/foo',
    digest: 'sha256:1234567890098765432112345667890098765',
    tag: 'latest',
    combined: 'test.com:8000/foo:latest@sha256:1234567890098765432112345667890098765',
  },
];

/** TestParseNamed: upstream ParseNamed -> our `parseNamed`. */
export const parseNamedCases: { input: string; domain?: string; path?: string; err?: string }[] = [
  { input: 'test.com/foo', domain: 'test.com', path: 'foo' },
  { input: 'test:8080/foo', domain: 'test:8080', path: 'foo' },
  { input: 'test_com/foo', err: 'repository name must be canonical' },
  { input: 'test.com', err: 'repository name must be canonical' },
  { input: 'foo', err: 'repository name must be canonical' },
  { input: 'library/foo', err: 'repository name must be canonical' },
  { input: 'docker.io/library/foo', domain: 'docker.io', path: 'library/foo' },
  // Ambiguous case, parser will add "library/" to foo
  { input: 'docker.io/foo', err: 'repository name must be canonical' },
];

// ---------------------------------------------------------------------------------------------
// normalize_test.go
// ---------------------------------------------------------------------------------------------

/** TestValidateReferenceName: names ParseNormalizedNamed must accept. */
export const validReferenceNames: string[] = [
  'docker/docker',
  'library/debian',
  'debian',
  'docker.io/docker/docker',
  'docker.io/library/debian',
  'docker.io/debian',
  'index.docker.io/docker/docker',
  'index.docker.io/library/debian',
  'index.docker.io/debian',
  '127.0.0.1:5000/docker/docker',
  '127.0.0.1:5000/library/debian',
  '127.0.0.1:5000/debian',
  '192.168.0.1',
  '192.168.0.1:80',
  '192.168.0.1:8/debian',
  '192.168.0.2:25000/debian',
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  '[fc00::1]:5000/docker',
  '[fc00::1]:5000/docker/docker',
  '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
  // This test case was moved from invalid to valid since it is valid input
  // when specified with a hostname, it removes the ambiguity from about
  // whether the value is an identifier or repository name
  'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  'Docker/docker',
  'DOCKER/docker',
];

/** TestValidateReferenceName: names ParseNormalizedNamed must reject. */
export const invalidReferenceNames: string[] = [
  'https://github.com/docker/docker',
  'docker/Docker',
  '-docker',
  '-docker/docker',
  '-docker.io/docker/docker',
  'docker///docker',
  'docker.io/docker/Docker',
  'docker.io/docker///docker',
  '[fc00::1]',
  '[fc00::1]:5000',
  'fc00::1:5000/debian',
  '[fe80::1%eth0]:5000/debian',
  '[2001:db8:3:4::192.0.2.33]:5000/debian',
  '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
];

/** TestValidateRemoteName: repository names ParseNormalizedNamed must accept. */
export const validRemoteNames: string[] = [
  // Sanity check.
  'docker/docker',
  // Allow 64-character non-hexadecimal names (hexadecimal names are forbidden).
  'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
  // Allow embedded hyphens.
  'docker-rules/docker',
  // Allow multiple hyphens as well.
  'docker---rules/docker',
  // Username doc and image name docker being tested.
  'doc/docker',
  // single character names are now allowed.
  'd/docker',
  'jess/t',
  // Consecutive underscores.
  'dock__er/docker',
];

/** TestValidateRemoteName: repository names ParseNormalizedNamed must reject. */
export const invalidRemoteNames: string[] = [
  // Disallow capital letters.
  'docker/Docker',
  // Only allow one slash.
  'docker///docker',
  // Disallow 64-character hexadecimal.
  '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
  // Disallow leading and trailing hyphens in namespace.
  '-docker/docker',
  'docker-/docker',
  '-docker-/docker',
  // Don't allow underscores everywhere (as opposed to hyphens).
  '____/____',
  '_docker/_docker',
  // Disallow consecutive periods.
  'dock..er/docker',
  'dock_.er/docker',
  'dock-.er/docker',
  // No repository.
  'docker/',
  // namespace too long
  'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
];

/**
 * TestParseRepositoryInfo: FamiliarName, FullName and (when set) AmbiguousName must all parse
 * (ParseNormalizedNamed) to the same familiarName / full / domain / path.
 */
export interface RepositoryInfoCase {
  RemoteName: string;
  FamiliarName: string;
  FullName: string;
  AmbiguousName: string;
  Domain: string;
}

export const parseRepositoryInfoCases: RepositoryInfoCase[] = [
  { RemoteName: 'fooo/bar', FamiliarName: 'fooo/bar', FullName: 'docker.io/fooo/bar', AmbiguousName: 'index.docker.io/fooo/bar', Domain: 'docker.io' },
  { RemoteName: 'library/ubuntu', FamiliarName: 'ubuntu', FullName: 'docker.io/library/ubuntu', AmbiguousName: 'library/ubuntu', Domain: 'docker.io' },
  { RemoteName: 'nonlibrary/ubuntu', FamiliarName: 'nonlibrary/ubuntu', FullName: 'docker.io/nonlibrary/ubuntu', AmbiguousName: '', Domain: 'docker.io' },
  { RemoteName: 'other/library', FamiliarName: 'other/library', FullName: 'docker.io/other/library', AmbiguousName: '', Domain: 'docker.io' },
  {
    RemoteName: 'private/moonbase',
    FamiliarName: '127.0.0.1:8000/private/moonbase',
    FullName: '127.0.0.1:8000/private/moonbase',
    AmbiguousName: '',
    Domain: '127.0.0.1:8000',
  },
  { RemoteName: 'privatebase', FamiliarName: '127.0.0.1:8000/privatebase', FullName: '127.0.0.1:8000/privatebase', AmbiguousName: '', Domain: '127.0.0.1:8000' },
  { RemoteName: 'private/moonbase', FamiliarName: 'example.com/private/moonbase', FullName: 'example.com/private/moonbase', AmbiguousName: '', Domain: 'example.com' },
  { RemoteName: 'privatebase', FamiliarName: 'example.com/privatebase', FullName: 'example.com/privatebase', AmbiguousName: '', Domain: 'example.com' },
  {
    RemoteName: 'private/moonbase',
    FamiliarName: 'example.com:8000/private/moonbase',
    FullName: 'example.com:8000/private/moonbase',
    AmbiguousName: '',
    Domain: 'example.com:8000',
  },
  { RemoteName: 'privatebasee', FamiliarName: 'example.com:8000/privatebasee', FullName: 'example.com:8000/privatebasee', AmbiguousName: '', Domain: 'example.com:8000' },
  {
    RemoteName: 'library/ubuntu-12.04-base',
    FamiliarName: 'ubuntu-12.04-base',
    FullName: 'docker.io/library/ubuntu-12.04-base',
    AmbiguousName: 'index.docker.io/library/ubuntu-12.04-base',
    Domain: 'docker.io',
  },
  { RemoteName: 'library/foo', FamiliarName: 'foo', FullName: 'docker.io/library/foo', AmbiguousName: 'docker.io/foo', Domain: 'docker.io' },
  { RemoteName: 'library/foo/bar', FamiliarName: 'library/foo/bar', FullName: 'docker.io/library/foo/bar', AmbiguousName: '', Domain: 'docker.io' },
  { RemoteName: 'store/foo/bar', FamiliarName: 'store/foo/bar', FullName: 'docker.io/store/foo/bar', AmbiguousName: '', Domain: 'docker.io' },
  { RemoteName: 'bar', FamiliarName: 'Foo/bar', FullName: 'Foo/bar', AmbiguousName: '', Domain: 'Foo' },
  { RemoteName: 'bar', FamiliarName: 'FOO/bar', FullName: 'FOO/bar', AmbiguousName: '', Domain: 'FOO' },
];

/** TestParseReferenceWithTagAndDigest: the short ref, normalized, must keep both tag and digest. */
export const referenceWithTagAndDigest = {
  shortRef: 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
  full: 'docker.io/library/busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
};

/** TestInvalidReferenceComponents: each must be rejected. */
export const invalidReferenceComponents = {
  /** ParseNormalizedNamed("-foo") */
  name: '-foo',
  /** WithTag(ParseNormalizedNamed("busybox"), "-foo") */
  base: 'busybox',
  tag: '-foo',
  /** WithDigest(ParseNormalizedNamed("busybox"), "foo") */
  digest: 'foo',
};

/**
 * TestParseAnyReference: `Reference` must print as `Equivalent`; when `Expected` is an ID it
 * must be that image ID, otherwise it must equal parse(Equivalent).
 */
export const parseAnyReferenceCases: { Reference: string; Equivalent: string; ExpectedId?: string }[] = [
  { Reference: 'redis', Equivalent: 'docker.io/library/redis' },
  { Reference: 'redis:latest', Equivalent: 'docker.io/library/redis:latest' },
  { Reference: 'docker.io/library/redis:latest', Equivalent: 'docker.io/library/redis:latest' },
  {
    Reference: 'redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  {
    Reference: 'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'docker.io/library/redis@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  { Reference: 'dmcgowan/myapp', Equivalent: 'docker.io/dmcgowan/myapp' },
  { Reference: 'dmcgowan/myapp:latest', Equivalent: 'docker.io/dmcgowan/myapp:latest' },
  { Reference: 'docker.io/mcgowan/myapp:latest', Equivalent: 'docker.io/mcgowan/myapp:latest' },
  {
    Reference: 'dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  {
    Reference: 'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'docker.io/dmcgowan/myapp@sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  {
    Reference: 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    ExpectedId: 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  {
    Reference: 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    ExpectedId: 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
    Equivalent: 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c',
  },
  {
    Reference: 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
    Equivalent: 'docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9',
  },
  { Reference: 'dbcc1', Equivalent: 'docker.io/library/dbcc1' },
];

/** TestNormalizedSplitHostname: ParseNormalizedNamed -> Domain / Path. */
export const normalizedSplitHostnameCases: { input: string; domain: string; path: string }[] = [
  { input: 'test.com/foo', domain: 'test.com', path: 'foo' },
  { input: 'test_com/foo', domain: 'docker.io', path: 'test_com/foo' },
  { input: 'docker/migrator', domain: 'docker.io', path: 'docker/migrator' },
  { input: 'test.com:8080/foo', domain: 'test.com:8080', path: 'foo' },
  { input: 'test-com:8080/foo', domain: 'test-com:8080', path: 'foo' },
  { input: 'foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'xn--n3h.com/foo', domain: 'xn--n3h.com', path: 'foo' },
  { input: 'xn--n3h.com:18080/foo', domain: 'xn--n3h.com:18080', path: 'foo' },
  { input: 'docker.io/foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'docker.io/library/foo', domain: 'docker.io', path: 'library/foo' },
  { input: 'docker.io/library/foo/bar', domain: 'docker.io', path: 'library/foo/bar' },
];

/** TestMatchError: FamiliarMatch("[-x]", ParseAnyReference("foo")) must fail. */
export const matchErrorCase = { reference: 'foo', pattern: '[-x]' };

/** TestMatch: FamiliarMatch(pattern, ParseAnyReference(reference)). */
export const matchCases: { reference: string; pattern: string; expected: boolean }[] = [
  { reference: 'foo', pattern: 'foo/**/ba[rz]', expected: false },
  { reference: 'foo/any/bat', pattern: 'foo/**/ba[rz]', expected: false },
  { reference: 'foo/a/bar', pattern: 'foo/**/ba[rz]', expected: true },
  { reference: 'foo/b/baz', pattern: 'foo/**/ba[rz]', expected: true },
  { reference: 'foo/c/baz:tag', pattern: 'foo/**/ba[rz]', expected: true },
  { reference: 'foo/c/baz:tag', pattern: 'foo/*/baz:tag', expected: true },
  { reference: 'foo/c/baz:tag', pattern: 'foo/c/baz:tag', expected: true },
  { reference: 'example.com/foo/c/baz:tag', pattern: '*/foo/c/baz', expected: true },
  { reference: 'example.com/foo/c/baz:tag', pattern: 'example.com/foo/c/baz', expected: true },
];

/** TestParseDockerRef: ParseDockerRef(input).String() -> expected (which must itself Parse). */
export const parseDockerRefCases: { name: string; input: string; expected: string }[] = [
  { name: 'nothing', input: 'busybox', expected: 'docker.io/library/busybox:latest' },
  { name: 'tag only', input: 'busybox:latest', expected: 'docker.io/library/busybox:latest' },
  {
    name: 'digest only',
    input: 'busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
    expected: 'docker.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
  },
  { name: 'path only', input: 'library/busybox', expected: 'docker.io/library/busybox:latest' },
  { name: 'hostname only', input: 'docker.io/busybox', expected: 'docker.io/library/busybox:latest' },
  { name: 'no tag', input: 'docker.io/library/busybox', expected: 'docker.io/library/busybox:latest' },
  { name: 'no path', input: 'docker.io/busybox:latest', expected: 'docker.io/library/busybox:latest' },
  { name: 'no hostname', input: 'library/busybox:latest', expected: 'docker.io/library/busybox:latest' },
  { name: 'full reference with tag', input: 'docker.io/library/busybox:latest', expected: 'docker.io/library/busybox:latest' },
  { name: 'gcr reference without tag', input: 'gcr.io/library/busybox', expected: 'gcr.io/library/busybox:latest' },
  {
    name: 'both tag and digest',
    input: 'gcr.io/library/busybox:latest@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
    expected: 'gcr.io/library/busybox@sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582',
  },
];

// ---------------------------------------------------------------------------------------------
// regexp_test.go
// ---------------------------------------------------------------------------------------------

/** TestDomainRegexp: `^domainAndPort$`. */
export const domainRegexpCases: { input: string; match: boolean }[] = [
  { input: 'test.com', match: true },
  { input: 'test.com:10304', match: true },
  { input: 'test.com:http', match: false },
  { input: 'localhost', match: true },
  { input: 'localhost:8080', match: true },
  { input: 'a', match: true },
  { input: 'a.b', match: true },
  { input: 'ab.cd.com', match: true },
  { input: 'a-b.com', match: true },
  { input: '-ab.com', match: false },
  { input: 'ab-.com', match: false },
  { input: 'ab.c-om', match: true },
  { input: 'ab.-com', match: false },
  { input: 'ab.com-', match: false },
  { input: '0101.com', match: true }, // TODO(dmcgowan): valid if this should be allowed
  { input: '001a.com', match: true },
  { input: 'b.gbc.io:443', match: true },
  { input: 'b.gbc.io', match: true },
  { input: 'xn--n3h.com', match: true }, // ☃.com in punycode
  { input: 'Asdf.com', match: true }, // uppercase character
  { input: '192.168.1.1:75050', match: true }, // ipv4
  { input: '192.168.1.1:750050', match: true }, // port with more than 5 digits, it will fail on validation
  { input: '[fd00:1:2::3]:75050', match: true }, // ipv6 compressed
  { input: '[fd00:1:2::3]75050', match: false }, // ipv6 wrong port separator
  { input: '[fd00:1:2::3]::75050', match: false }, // ipv6 wrong port separator
  { input: '[fd00:1:2::3%eth0]:75050', match: false }, // ipv6 with zone
  { input: '[fd00123123123]:75050', match: true }, // ipv6 wrong format, will fail in validation
  { input: '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', match: true }, // ipv6 long format
  { input: '[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505', match: true }, // ipv6 long format and invalid port, it will fail in validation
  { input: 'fd00:1:2::3:75050', match: false }, // bad ipv6 without square brackets
];

/** A regexp table row: whether `input` matches, and the expected submatches ('' = did not participate). */
export interface RegexpMatchCase {
  input: string;
  match: boolean;
  subs?: string[];
}

/** TestFullNameRegexp: anchoredNameRegexp (2 groups: domain, path). */
export const fullNameRegexpCases: RegexpMatchCase[] = [
  { input: '', match: false },
  { input: 'short', match: true, subs: ['', 'short'] },
  { input: 'simple/name', match: true, subs: ['simple', 'name'] },
  { input: 'library/ubuntu', match: true, subs: ['library', 'ubuntu'] },
  { input: 'docker/stevvooe/app', match: true, subs: ['docker', 'stevvooe/app'] },
  { input: 'aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb', match: true, subs: ['aa', 'aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb'] },
  { input: 'aa/aa/bb/bb/bb', match: true, subs: ['aa', 'aa/bb/bb/bb'] },
  { input: 'a/a/a/a', match: true, subs: ['a', 'a/a/a'] },
  { input: 'a/a/a/a/', match: false },
  { input: 'a//a/a', match: false },
  { input: 'a', match: true, subs: ['', 'a'] },
  { input: 'a/aa', match: true, subs: ['a', 'aa'] },
  { input: 'a/aa/a', match: true, subs: ['a', 'aa/a'] },
  { input: 'foo.com', match: true, subs: ['', 'foo.com'] },
  { input: 'foo.com/', match: false },
  { input: 'foo.com:8080/bar', match: true, subs: ['foo.com:8080', 'bar'] },
  { input: 'foo.com:http/bar', match: false },
  { input: 'foo.com/bar', match: true, subs: ['foo.com', 'bar'] },
  { input: 'foo.com/bar/baz', match: true, subs: ['foo.com', 'bar/baz'] },
  { input: 'localhost:8080/bar', match: true, subs: ['localhost:8080', 'bar'] },
  { input: 'sub-dom1.foo.com/bar/baz/quux', match: true, subs: ['sub-dom1.foo.com', 'bar/baz/quux'] },
  { input: 'blog.foo.com/bar/baz', match: true, subs: ['blog.foo.com', 'bar/baz'] },
  { input: 'a^a', match: false },
  { input: 'aa/asdf$$^/aa', match: false },
  { input: 'asdf$$^/aa', match: false },
  { input: 'aa-a/a', match: true, subs: ['aa-a', 'a'] },
  { input: `${'a/'.repeat(128)}a`, match: true, subs: ['a', `${'a/'.repeat(127)}a`] },
  { input: 'a-/a/a/a', match: false },
  { input: 'foo.com/a-/a/a', match: false },
  { input: '-foo/bar', match: false },
  { input: 'foo/bar-', match: false },
  { input: 'foo-/bar', match: false },
  { input: 'foo/-bar', match: false },
  { input: '_foo/bar', match: false },
  { input: 'foo_bar', match: true, subs: ['', 'foo_bar'] },
  { input: 'foo_bar.com', match: true, subs: ['', 'foo_bar.com'] },
  { input: 'foo_bar.com:8080', match: false },
  { input: 'foo_bar.com:8080/app', match: false },
  { input: 'foo.com/foo_bar', match: true, subs: ['foo.com', 'foo_bar'] },
  { input: '____/____', match: false },
  { input: '_docker/_docker', match: false },
  { input: 'docker_/docker_', match: false },
  { input: 'b.gcr.io/test.example.com/my-app', match: true, subs: ['b.gcr.io', 'test.example.com/my-app'] },
  { input: 'xn--n3h.com/myimage', match: true, subs: ['xn--n3h.com', 'myimage'] }, // ☃.com in punycode
  { input: 'xn--7o8h.com/myimage', match: true, subs: ['xn--7o8h.com', 'myimage'] }, // 🐳.com in punycode
  { input: 'example.com/xn--7o8h.com/myimage', match: true, subs: ['example.com', 'xn--7o8h.com/myimage'] }, // 🐳.com in punycode
  {
    input: 'example.com/some_separator__underscore/myimage',
    match: true,
    subs: ['example.com', 'some_separator__underscore/myimage'],
  },
  { input: 'example.com/__underscore/myimage', match: false },
  { input: 'example.com/..dots/myimage', match: false },
  { input: 'example.com/.dots/myimage', match: false },
  { input: 'example.com/nodouble..dots/myimage', match: false },
  { input: 'example.com/nodouble..dots/myimage', match: false },
  { input: 'docker./docker', match: false },
  { input: '.docker/docker', match: false },
  { input: 'docker-/docker', match: false },
  { input: '-docker/docker', match: false },
  { input: 'do..cker/docker', match: false },
  { input: 'do__cker:8080/docker', match: false },
  { input: 'do__cker/docker', match: true, subs: ['', 'do__cker/docker'] },
  { input: 'b.gcr.io/test.example.com/my-app', match: true, subs: ['b.gcr.io', 'test.example.com/my-app'] },
  {
    input: 'registry.io/foo/project--id.module--name.ver---sion--name',
    match: true,
    subs: ['registry.io', 'foo/project--id.module--name.ver---sion--name'],
  },
  { input: 'Asdf.com/foo/bar', match: true }, // uppercase character in hostname
  { input: 'Foo/FarB', match: false }, // uppercase characters in remote name
];

const BE = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';

/** TestReferenceRegexp: referenceRegexp (3 groups: name, tag, digest). */
export const referenceRegexpCases: RegexpMatchCase[] = [
  { input: 'registry.com:8080/myapp:tag', match: true, subs: ['registry.com:8080/myapp', 'tag', ''] },
  { input: `registry.com:8080/myapp@${BE}`, match: true, subs: ['registry.com:8080/myapp', '', BE] },
  { input: `registry.com:8080/myapp:tag2@${BE}`, match: true, subs: ['registry.com:8080/myapp', 'tag2', BE] },
  { input: 'registry.com:8080/myapp@sha256:badbadbadbad', match: false },
  { input: 'registry.com:8080/myapp:invalid~tag', match: false },
  { input: 'bad_hostname.com:8080/myapp:tag', match: false },
  // localhost treated as name, missing tag with 8080 as tag
  { input: `localhost:8080@${BE}`, match: true, subs: ['localhost', '8080', BE] },
  { input: `localhost:8080/name@${BE}`, match: true, subs: ['localhost:8080/name', '', BE] },
  { input: `localhost:http/name@${BE}`, match: false },
  // localhost will be treated as an image name without a host
  { input: `localhost@${BE}`, match: true, subs: ['localhost', '', BE] },
  { input: 'registry.com:8080/myapp@bad', match: false },
  { input: 'registry.com:8080/myapp@2bad', match: false }, // TODO(dmcgowan): Support this as valid
];

/** TestIdentifierRegexp: anchoredIdentifierRegexp. */
export const identifierRegexpCases: { input: string; match: boolean }[] = [
  { input: 'da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', match: true },
  { input: '7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C', match: false },
  { input: 'da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf', match: false },
  { input: 'sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821', match: false },
  { input: 'da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482', match: false },
];

// fuzz_test.go (FuzzParseNormalizedNamed) is left out: it only feeds random input and asserts
// nothing but "no panic"; a property-style check of the same kind lives in reference.test.ts.

// ---------------------------------------------------------------------------------------------
// golang/go src/path/match_test.go (the matcher under FamiliarMatch)
// ---------------------------------------------------------------------------------------------

/** matchTests: path.Match(pattern, s) -> match, or the ErrBadPattern message. */
export const goPathMatchCases: { pattern: string; s: string; match: boolean; err?: string }[] = [
  { pattern: 'abc', s: 'abc', match: true },
  { pattern: '*', s: 'abc', match: true },
  { pattern: '*c', s: 'abc', match: true },
  { pattern: 'a*', s: 'a', match: true },
  { pattern: 'a*', s: 'abc', match: true },
  { pattern: 'a*', s: 'ab/c', match: false },
  { pattern: 'a*/b', s: 'abc/b', match: true },
  { pattern: 'a*/b', s: 'a/c/b', match: false },
  { pattern: 'a*b*c*d*e*/f', s: 'axbxcxdxe/f', match: true },
  { pattern: 'a*b*c*d*e*/f', s: 'axbxcxdxexxx/f', match: true },
  { pattern: 'a*b*c*d*e*/f', s: 'axbxcxdxe/xxx/f', match: false },
  { pattern: 'a*b*c*d*e*/f', s: 'axbxcxdxexxx/fff', match: false },
  { pattern: 'a*b?c*x', s: 'abxbbxdbxebxczzx', match: true },
  { pattern: 'a*b?c*x', s: 'abxbbxdbxebxczzy', match: false },
  { pattern: 'ab[c]', s: 'abc', match: true },
  { pattern: 'ab[b-d]', s: 'abc', match: true },
  { pattern: 'ab[e-g]', s: 'abc', match: false },
  { pattern: 'ab[^c]', s: 'abc', match: false },
  { pattern: 'ab[^b-d]', s: 'abc', match: false },
  { pattern: 'ab[^e-g]', s: 'abc', match: true },
  { pattern: 'a\\*b', s: 'a*b', match: true },
  { pattern: 'a\\*b', s: 'ab', match: false },
  { pattern: 'a?b', s: 'a☺b', match: true },
  { pattern: 'a[^a]b', s: 'a☺b', match: true },
  { pattern: 'a???b', s: 'a☺b', match: false },
  { pattern: 'a[^a][^a][^a]b', s: 'a☺b', match: false },
  { pattern: '[a-ζ]*', s: 'α', match: true },
  { pattern: '*[a-ζ]', s: 'A', match: false },
  { pattern: 'a?b', s: 'a/b', match: false },
  { pattern: 'a*b', s: 'a/b', match: false },
  { pattern: '[\\]a]', s: ']', match: true },
  { pattern: '[\\-]', s: '-', match: true },
  { pattern: '[x\\-]', s: 'x', match: true },
  { pattern: '[x\\-]', s: '-', match: true },
  { pattern: '[x\\-]', s: 'z', match: false },
  { pattern: '[\\-x]', s: 'x', match: true },
  { pattern: '[\\-x]', s: '-', match: true },
  { pattern: '[\\-x]', s: 'a', match: false },
  { pattern: '[]a]', s: ']', match: false, err: 'syntax error in pattern' },
  { pattern: '[-]', s: '-', match: false, err: 'syntax error in pattern' },
  { pattern: '[x-]', s: 'x', match: false, err: 'syntax error in pattern' },
  { pattern: '[x-]', s: '-', match: false, err: 'syntax error in pattern' },
  { pattern: '[x-]', s: 'z', match: false, err: 'syntax error in pattern' },
  { pattern: '[-x]', s: 'x', match: false, err: 'syntax error in pattern' },
  { pattern: '[-x]', s: '-', match: false, err: 'syntax error in pattern' },
  { pattern: '[-x]', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: '\\', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: '[a-b-c]', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: '[', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: '[^', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: '[^bc', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: 'a[', s: 'a', match: false, err: 'syntax error in pattern' },
  { pattern: 'a[', s: 'ab', match: false, err: 'syntax error in pattern' },
  { pattern: 'a[', s: 'x', match: false, err: 'syntax error in pattern' },
  { pattern: 'a/b[', s: 'x', match: false, err: 'syntax error in pattern' },
  { pattern: '*x', s: 'xxx', match: true },
];
