import { CacheError } from '@lovely-memcached/core';
import { describe, expect, it } from 'vitest';
import { memoryTransport } from '../src';

describe('memoryTransport options are checked when it is made', () => {
  it.each([
    [{ maxItemSize: Number.NaN }, 'maxItemSize'],
    [{ maxItemSize: 100 }, 'maxItemSize'],
    [{ memoryLimit: -1 }, 'memoryLimit'],
    [{ memoryLimit: 1.5 }, 'memoryLimit'],
    [{ now: 12 }, 'now'],
    // A name it does not know, with the closest known one (#23.5).
    [{ maxItemsize: 2048 }, 'maxItemsize` in the memoryTransport() options: did you mean `maxItemSize'],
    [{ memory: 1024 }, 'memory` in the memoryTransport() options: did you mean `memoryLimit'],
    [{ timeout: 50 }, 'timeout` in the memoryTransport() options: known options are `now'],
  ])('%o is refused, naming `%s`', (options, name) => {
    let error: unknown;
    try {
      memoryTransport(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(`\`${name}\``);
  });

  it('takes valid options', () => {
    expect(
      memoryTransport({ maxItemSize: 2048, memoryLimit: 48 * 1024 })(['a:1']).capabilities.maxItemSize,
    ).toBe(2048);
  });
});
