/**
 * distribution/reference's own test tables (see upstream-cases.ts for the source and commits),
 * driven against our API. Go-only checks are adapted as noted per table.
 */
import { describe, expect, it } from 'vitest';
import {
  ANCHORED_DOMAIN_REGEXP,
  ANCHORED_IDENTIFIER_REGEXP,
  ANCHORED_NAME_REGEXP,
  PatternSyntaxError,
  REFERENCE_REGEXP,
  ReferenceFormatError,
  familiarMatch,
  isImageId,
  parse,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseReference,
  pathMatch,
  withDigest,
  withName,
  withTag,
} from '../../../src/reference/index.js';
import {
  type RegexpMatchCase,
  domainAndPathCases,
  domainRegexpCases,
  fullNameRegexpCases,
  goPathMatchCases,
  identifierRegexpCases,
  invalidReferenceComponents,
  invalidReferenceNames,
  invalidRemoteNames,
  matchCases,
  matchErrorCase,
  normalizedSplitHostnameCases,
  parseAnyReferenceCases,
  parseDockerRefCases,
  parseNamedCases,
  parseRepositoryInfoCases,
  referenceParseCases,
  referenceRegexpCases,
  referenceWithTagAndDigest,
  serializationCases,
  validReferenceNames,
  validRemoteNames,
  withDigestCases,
  withNameFailureCases,
  withTagCases,
} from './upstream-cases.js';

/** Runs `fn`, expecting a ReferenceFormatError, and returns its message. */
function formatErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ReferenceFormatError);
    expect((e as ReferenceFormatError).code).toBe('INVALID_REFERENCE');
    return (e as Error).message;
  }
  throw new Error('expected a ReferenceFormatError, nothing was thrown');
}

/** A short test title for long inputs. */
function title(s: string): string {
  return s.length > 80 ? `${s.slice(0, 60)}...(${s.length} chars)` : s;
}

/** Number of capture groups of `re` (Go's NumSubexp). */
function numSubexp(re: RegExp): number {
  return (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
}

/** Go's checkRegexp: FindStringSubmatch with '' for groups that did not participate. */
function checkRegexp(re: RegExp, tc: RegexpMatchCase): void {
  const m = re.exec(tc.input);
  if (!tc.match) {
    expect(m).toBeNull();
    return;
  }
  expect(m).not.toBeNull();
  const matches = Array.from(m ?? [], (s) => s ?? '');
  expect(matches.length).toBe(numSubexp(re) + 1);
  expect(matches[0]).toBe(tc.input);
  if (tc.subs) expect(matches.slice(1, tc.subs.length + 1)).toEqual(tc.subs);
}

describe('reference_test.go', () => {
  describe('TestReferenceParse (parse)', () => {
    it.each(referenceParseCases.map((tc) => [title(tc.input), tc] as const))('%s', (_, tc) => {
      if (tc.err !== undefined) {
        expect(formatErrorOf(() => parse(tc.input))).toBe(tc.err);
        return;
      }
      const ref = parse(tc.input);
      expect(ref.full).toBe(tc.input);
      expect(ref.name).toBe(tc.repository);
      expect(ref.domain).toBe(tc.domain ?? '');
      expect(ref.tag).toBe(tc.tag);
      expect(ref.digest).toBe(tc.digest);
    });
  });

  describe('TestWithNameFailure (withName)', () => {
    it.each(withNameFailureCases.map((tc) => [title(tc.input), tc] as const))('%s', (_, tc) => {
      expect(formatErrorOf(() => withName(tc.input))).toBe(tc.err);
    });
  });

  describe('TestDomainAndPath (withName)', () => {
    it.each(domainAndPathCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      const named = withName(tc.input);
      expect(named.domain).toBe(tc.domain);
      expect(named.path).toBe(tc.path);
    });
  });

  // Adapted: upstream JSON-round-trips a Go `Field`; here the same inputs go through parse and back.
  describe('TestSerialization (parse round trip)', () => {
    it.each(serializationCases.map((tc) => [tc.description, tc] as const))('%s', (_, tc) => {
      if (tc.err !== undefined) {
        expect(formatErrorOf(() => parse(tc.input))).toBe(tc.err);
        return;
      }
      const ref = parse(tc.input);
      expect(ref.name).toBe(tc.name);
      expect(ref.tag).toBe(tc.tag);
      expect(ref.digest).toBe(tc.digest);
      expect(ref.full).toBe(tc.input);
      expect(String(ref)).toBe(tc.input);
    });
  });

  describe('TestWithTag', () => {
    it.each(withTagCases.map((tc) => [tc.combined, tc] as const))('%s', (_, tc) => {
      let named = withName(tc.name);
      if (tc.digest !== undefined) named = withDigest(named, tc.digest);
      expect(withTag(named, tc.tag).full).toBe(tc.combined);
    });
  });

  describe('TestWithDigest', () => {
    it.each(withDigestCases.map((tc) => [tc.combined, tc] as const))('%s', (_, tc) => {
      let named = withName(tc.name);
      if (tc.tag !== undefined) named = withTag(named, tc.tag);
      expect(withDigest(named, tc.digest).full).toBe(tc.combined);
    });
  });

  describe('TestParseNamed (parseNamed)', () => {
    it.each(parseNamedCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      if (tc.err !== undefined) {
        expect(formatErrorOf(() => parseNamed(tc.input))).toBe(tc.err);
        return;
      }
      const named = parseNamed(tc.input);
      expect(named.domain).toBe(tc.domain);
      expect(named.path).toBe(tc.path);
    });
  });
});

describe('normalize_test.go', () => {
  describe('TestValidateReferenceName', () => {
    it.each(validReferenceNames)('valid: %s', (name) => {
      expect(() => parseReference(name)).not.toThrow();
    });
    it.each(invalidReferenceNames)('invalid: %s', (name) => {
      formatErrorOf(() => parseReference(name));
    });
  });

  describe('TestValidateRemoteName', () => {
    it.each(validRemoteNames)('valid: %s', (name) => {
      expect(() => parseReference(name)).not.toThrow();
    });
    it.each(invalidRemoteNames.map((n) => [title(n), n] as const))('invalid: %s', (_, name) => {
      formatErrorOf(() => parseReference(name));
    });
  });

  describe('TestParseRepositoryInfo', () => {
    const rows = parseRepositoryInfoCases.flatMap((tc, i) =>
      [tc.FamiliarName, tc.FullName, ...(tc.AmbiguousName !== '' ? [tc.AmbiguousName] : [])].map(
        (r) => [`${i}/${r}`, r, tc] as const,
      ),
    );
    it.each(rows)('%s', (_, r, tc) => {
      const named = parseReference(r);
      expect(named.familiarName).toBe(tc.FamiliarName);
      expect(named.full).toBe(tc.FullName);
      expect(named.domain).toBe(tc.Domain);
      expect(named.path).toBe(tc.RemoteName);
    });
  });

  it('TestParseReferenceWithTagAndDigest', () => {
    const { shortRef, full } = referenceWithTagAndDigest;
    const ref = parseReference(shortRef);
    expect(ref.full).toBe(full);
    expect(ref.tag).toBe('latest');
    expect(ref.digest).toBe(shortRef.slice(shortRef.indexOf('@') + 1));
    expect(ref.familiar).toBe(shortRef);
  });

  it('TestInvalidReferenceComponents', () => {
    const { name, base, tag, digest } = invalidReferenceComponents;
    formatErrorOf(() => parseReference(name));
    const ref = parseReference(base);
    expect(formatErrorOf(() => withTag(ref, tag))).toBe('invalid tag format');
    expect(formatErrorOf(() => withDigest(ref, digest))).toBe('invalid digest format');
  });

  // Adapted: upstream compares Go reference types; we compare the ID, or the parts of parse(Equivalent).
  describe('TestParseAnyReference', () => {
    it.each(parseAnyReferenceCases.map((tc) => [tc.Reference, tc] as const))('%s', (_, tc) => {
      const ref = parseAnyReference(tc.Reference);
      if (tc.ExpectedId !== undefined) {
        expect(ref).toEqual({ id: tc.ExpectedId });
        expect(tc.Equivalent).toBe(tc.ExpectedId);
        return;
      }
      if (isImageId(ref)) throw new Error(`expected a named reference, got ${ref.id}`);
      expect(ref.full).toBe(tc.Equivalent);
      const expected = parse(tc.Equivalent);
      expect([ref.domain, ref.path, ref.tag, ref.digest]).toEqual([expected.domain, expected.path, expected.tag, expected.digest]);
    });
  });

  describe('TestNormalizedSplitHostname', () => {
    it.each(normalizedSplitHostnameCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      const named = parseReference(tc.input);
      expect(named.domain).toBe(tc.domain);
      expect(named.path).toBe(tc.path);
    });
  });

  it('TestMatchError', () => {
    const named = parseAnyReference(matchErrorCase.reference);
    expect(() => familiarMatch(matchErrorCase.pattern, named)).toThrow(PatternSyntaxError);
    expect(() => familiarMatch(matchErrorCase.pattern, named)).toThrow('syntax error in pattern');
  });

  describe('TestMatch', () => {
    it.each(matchCases.map((tc) => [`${tc.reference} ~ ${tc.pattern}`, tc] as const))('%s', (_, tc) => {
      expect(familiarMatch(tc.pattern, parseAnyReference(tc.reference))).toBe(tc.expected);
    });
  });

  describe('TestParseDockerRef', () => {
    it.each(parseDockerRefCases.map((tc) => [tc.name, tc] as const))('%s', (_, tc) => {
      const output = parseDockerRef(tc.input).full;
      expect(output).toBe(tc.expected);
      expect(parse(output).full).toBe(output);
    });
  });
});

describe('regexp_test.go', () => {
  describe('TestDomainRegexp', () => {
    it.each(domainRegexpCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      expect(ANCHORED_DOMAIN_REGEXP.test(tc.input)).toBe(tc.match);
    });
  });

  describe('TestFullNameRegexp', () => {
    it('has two submatches', () => expect(numSubexp(ANCHORED_NAME_REGEXP)).toBe(2));
    it.each(fullNameRegexpCases.map((tc) => [title(tc.input), tc] as const))('%s', (_, tc) => {
      checkRegexp(ANCHORED_NAME_REGEXP, tc);
    });
  });

  describe('TestReferenceRegexp', () => {
    it('has three submatches', () => expect(numSubexp(REFERENCE_REGEXP)).toBe(3));
    it.each(referenceRegexpCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      checkRegexp(REFERENCE_REGEXP, tc);
    });
  });

  describe('TestIdentifierRegexp', () => {
    it.each(identifierRegexpCases.map((tc) => [tc.input, tc] as const))('%s', (_, tc) => {
      expect(ANCHORED_IDENTIFIER_REGEXP.test(tc.input)).toBe(tc.match);
    });
  });
});

describe('go path/match_test.go (the matcher under FamiliarMatch)', () => {
  it.each(goPathMatchCases.map((tc) => [`${tc.pattern} ~ ${tc.s}`, tc] as const))('%s', (_, tc) => {
    if (tc.err !== undefined) {
      expect(() => pathMatch(tc.pattern, tc.s)).toThrow(tc.err);
      return;
    }
    expect(pathMatch(tc.pattern, tc.s)).toBe(tc.match);
  });
});
