// The next chunk's size from the last one's measured speed (pure arithmetic, no clock).
import { describe, expect, it } from 'vitest';
import { CHUNK_SECONDS, nextChunkSize } from '../../../src/registry/upload.js';

const MiB = 1024 * 1024;
const floor = 16 * MiB;
const ceiling = 64 * MiB;

describe('nextChunkSize', () => {
  it('what the last speed moves in CHUNK_SECONDS, in whole MiB', () => {
    expect(CHUNK_SECONDS).toBe(2);
    // 16 MiB in 1 s -> 32 MiB in 2 s.
    expect(nextChunkSize(16 * MiB, 1, floor, ceiling)).toBe(32 * MiB);
    // 16 MiB in 0.75 s -> 42.67 MiB -> 42 MiB.
    expect(nextChunkSize(16 * MiB, 0.75, floor, ceiling)).toBe(42 * MiB);
  });

  it('never over the ceiling (a fast link), never under the floor (a slow one)', () => {
    expect(nextChunkSize(16 * MiB, 0.05, floor, ceiling)).toBe(ceiling);
    expect(nextChunkSize(16 * MiB, 0, floor, ceiling)).toBe(ceiling);
    expect(nextChunkSize(16 * MiB, 8, floor, ceiling)).toBe(floor);
    expect(nextChunkSize(64 * MiB, 4, floor, ceiling)).toBe(32 * MiB);
  });
});
