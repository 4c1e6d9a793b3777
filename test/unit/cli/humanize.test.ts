import { describe, expect, it } from 'vitest';
import { createdSince, goTimeString, humanDuration, humanSize } from '../../../src/cli/format/humanize.js';

// Expected values are go-units' outputs (HumanSizeWithPrecision(x, 3), HumanDuration).
describe('humanSize', () => {
  it.each([
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1234, '1.23kB'],
    [5580, '5.58kB'],
    [1_240_000, '1.24MB'],
    [72_800_000, '72.8MB'],
    [1_000_000_000, '1GB'],
    [999_500, '1e+03kB'],
  ])('%d bytes -> %s', (n, s) => expect(humanSize(n)).toBe(s));
});

describe('humanDuration', () => {
  const s = 1000;
  const h = 3600 * s;
  it.each([
    [500, 'Less than a second'],
    [1 * s, '1 second'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [120 * s, '2 minutes'],
    [59 * 60 * s, '59 minutes'],
    [60 * 60 * s, 'About an hour'],
    [90 * 60 * s, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * 24 * h, '13 days'],
    [14 * 24 * h, '2 weeks'],
    [60 * 24 * h, '2 months'],
    [2 * 365 * 24 * h, '2 years'],
  ])('%d ms -> %s', (ms, text) => expect(humanDuration(ms)).toBe(text));

  it('says "ago" and N/A without a date', () => {
    expect(createdSince(new Date(0), 2 * 86_400_000)).toBe('2 days ago');
    expect(createdSince(undefined)).toBe('N/A');
  });

  it('prints Go time strings in UTC', () => {
    expect(goTimeString(new Date('2024-01-02T15:04:05Z'))).toBe('2024-01-02 15:04:05 +0000 UTC');
  });
});
