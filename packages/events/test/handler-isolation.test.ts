/**
 * User code called by the bus (handlers, error listeners) is isolated (#16.7): whatever it throws, rejects or
 * returns, `notify` resolves, nothing escapes as an unhandled rejection, and a failure nobody listens to is still
 * seen once, as a process warning.
 */
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { type BusError, InvalidateCacheEvent, InvalidationBus, invalidateCache } from '../src';

/**
 * A thenable that is not a native promise, as some libraries (old Bluebird, jQuery, hand-written) return: it
 * settles `ms` after it is made (calling `onSettled` then), whether or not anyone called `then`.
 */
function thenableSettlingAfter(
  ms: number,
  outcome: { value?: unknown; error?: unknown },
  onSettled: () => void = () => {},
): PromiseLike<unknown> {
  const settled = new Promise<void>((resolve) => setTimeout(resolve, ms)).then(onSettled);
  return {
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is the point of this test.
    then(onFulfilled, onRejected) {
      return settled.then(() =>
        'error' in outcome ? onRejected?.(outcome.error) : onFulfilled?.(outcome.value),
      ) as never;
    },
  };
}

const event = () => new InvalidateCacheEvent({ key: 'k' });

let warn: MockInstance<typeof process.emitWarning>;
beforeEach(() => {
  warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
});
afterEach(() => {
  warn.mockRestore();
});

function busWarnings(): string[] {
  return warn.mock.calls
    .filter(
      ([, options]) => (options as { code?: string } | undefined)?.code === 'LOVELY_MEMCACHED_BUS_ERROR',
    )
    .map(([message]) => String(message));
}

describe('handlers returning a thenable that is not a native Promise', () => {
  it('are awaited by notify', async () => {
    const bus = new InvalidationBus();
    const done: string[] = [];
    bus.on(() => thenableSettlingAfter(30, { value: 'x' }, () => done.push('handler')));
    await bus.notify(event());
    expect(done).toEqual(['handler']);
  });

  it('are reported when they reject, and notify still resolves', async () => {
    const bus = new InvalidationBus();
    const errors: BusError[] = [];
    bus.onError((error) => errors.push(error));
    bus.on(() => thenableSettlingAfter(10, { error: new Error('thenable boom') }));
    await expect(bus.notify(event())).resolves.toBeUndefined();
    expect(errors.map((e) => [e.type, e.message])).toEqual([
      ['handler-failed', 'an invalidation handler failed: thenable boom'],
    ]);
  });

  it('are reported when their `then` throws', async () => {
    const bus = new InvalidationBus();
    const errors: BusError[] = [];
    bus.onError((error) => errors.push(error));
    bus.on(() => ({
      // biome-ignore lint/suspicious/noThenProperty: a broken thenable is the point of this test.
      then() {
        throw new Error('then boom');
      },
    }));
    await expect(bus.notify(event())).resolves.toBeUndefined();
    expect(errors.map((e) => e.message)).toEqual(['an invalidation handler failed: then boom']);
  });
});

describe('handlers throwing what is not an Error', () => {
  it('are reported even when the thrown value cannot be turned into a string', async () => {
    const bus = new InvalidationBus();
    const errors: BusError[] = [];
    bus.onError((error) => errors.push(error));
    const unprintable = Object.create(null);
    bus.on(() => {
      throw unprintable;
    });
    bus.on(async () => {
      throw unprintable;
    });
    await expect(bus.notify(event())).resolves.toBeUndefined();
    expect(errors.map((e) => [e.message, 'error' in e && e.error === unprintable])).toEqual([
      ['an invalidation handler failed: [object Object]', true],
      ['an invalidation handler failed: [object Object]', true],
    ]);
  });
});

describe('error listeners', () => {
  it('a throwing listener does not keep the next one from hearing, nor reject notify', async () => {
    const bus = new InvalidationBus();
    const heard: string[] = [];
    bus.onError(() => {
      throw new Error('listener boom');
    });
    bus.onError((error) => heard.push(error.type));
    bus.on(invalidateCache);
    await expect(bus.notify(new InvalidateCacheEvent({ cacheName: 'nope' }))).resolves.toBeUndefined();
    expect(heard).toEqual(['unknown-cache']);
    expect(busWarnings()).toEqual([expect.stringContaining('listener boom')]);
  });

  it('a listener that rejects leaves no unhandled rejection: it becomes a warning', async () => {
    const bus = new InvalidationBus();
    bus.onError(async () => {
      throw new Error('async listener boom');
    });
    bus.on(invalidateCache);
    await bus.notify(new InvalidateCacheEvent({ cacheName: 'nope' }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(busWarnings()).toEqual([expect.stringContaining('async listener boom')]);
  });
});

describe('failures nobody listens to', () => {
  it('are a process warning, once per kind of failure per bus', async () => {
    const bus = new InvalidationBus();
    bus.on(invalidateCache);
    bus.register('broken', {
      invalidate: async () => {
        throw new Error('connection lost');
      },
    });
    for (let round = 0; round < 3; round++) {
      await bus.notify(new InvalidateCacheEvent({ cacheName: 'nope' }));
      await bus.notify(new InvalidateCacheEvent({ key: 'k' }));
    }
    const warnings = busWarnings();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('no client registered as "nope"');
    expect(warnings[1]).toContain('invalidating in "broken" failed: connection lost');
    for (const warning of warnings) expect(warning).toContain('bus.onError(');

    // Another bus has its own "once".
    const other = new InvalidationBus().on(() => {
      throw new Error('handler boom');
    });
    await other.notify(event());
    await other.notify(event());
    expect(busWarnings()).toHaveLength(3);
    expect(busWarnings()[2]).toContain('handler boom');
  });

  it('are not warned about while an error listener is subscribed, and are again once it is removed', async () => {
    const bus = new InvalidationBus().on(() => {
      throw new Error('handler boom');
    });
    const unsubscribe = bus.onError(() => {});
    await bus.notify(event());
    expect(busWarnings()).toEqual([]);
    unsubscribe();
    await bus.notify(event());
    expect(busWarnings()).toEqual([expect.stringContaining('handler boom')]);
  });
});
