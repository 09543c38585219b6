/** How both network transports write: a tick's first request at once, the rest corked until the tick ends. */
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { closedReason, TickWriter } from '../src';

/** A socket that records what it was asked to do, in order. */
function recordingSocket() {
  const calls: string[] = [];
  const socket = {
    cork: () => calls.push('cork'),
    uncork: () => calls.push('uncork'),
    write: (bytes: Buffer | string) => calls.push(`write ${bytes.toString()}`),
  };
  return { calls, socket: socket as unknown as Socket };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('TickWriter', () => {
  it('writes a lone request at once, without corking', async () => {
    const { calls, socket } = recordingSocket();
    new TickWriter(socket, undefined).write('a');
    expect(calls).toEqual(['write a']);
    await nextTick();
    expect(calls).toEqual(['write a']);
  });

  it('corks the rest of the tick and lets it out when the tick ends, after the hook', async () => {
    const { calls, socket } = recordingSocket();
    let quietOpen = true;
    const writer = new TickWriter(socket, undefined, () => {
      if (!quietOpen) return;
      quietOpen = false;
      writer.write('mn');
    });
    writer.write('a');
    writer.write('b');
    writer.write('c');
    expect(calls).toEqual(['write a', 'cork', 'write b', 'write c']);
    await nextTick();
    // The hook's request opens the next tick but joins the corked ones: order is kept, one uncork.
    expect(calls).toEqual(['write a', 'cork', 'write b', 'write c', 'write mn', 'uncork']);
  });

  it('ends the tick without process.nextTick or queueMicrotask, which fake timers fake (Jest by default)', async () => {
    const nextTickSpy = vi.spyOn(process, 'nextTick').mockImplementation(() => {});
    const microtaskSpy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation(() => {});
    try {
      const { calls, socket } = recordingSocket();
      const writer = new TickWriter(socket, undefined);
      writer.write('a');
      writer.write('b');
      await Promise.resolve();
      expect(calls).toEqual(['write a', 'cork', 'write b', 'uncork']);
      writer.write('c'); // the next tick's first request: at once again
      expect(calls.at(-1)).toBe('write c');
      expect(nextTickSpy).not.toHaveBeenCalled();
      expect(microtaskSpy).not.toHaveBeenCalled();
    } finally {
      nextTickSpy.mockRestore();
      microtaskSpy.mockRestore();
    }
  });

  it('tells the stall nudger after a tick that wrote more than one TLS record', async () => {
    const { socket } = recordingSocket();
    let bursts = 0;
    const nudger = { burst: () => bursts++ } as unknown as ConstructorParameters<typeof TickWriter>[1];
    const writer = new TickWriter(socket, nudger);
    writer.write(Buffer.alloc(10_000));
    writer.write(Buffer.alloc(10_000));
    await nextTick();
    expect(bursts).toBe(1);
    writer.write(Buffer.alloc(100));
    await nextTick();
    expect(bursts).toBe(1);
  });
});

describe('closedReason', () => {
  it.each([
    [{ errorCode: 'ECONNRESET', tls: false, waiting: true, answered: false }, 'closed-before-reply'],
    [
      { errorCode: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', tls: true, waiting: true, answered: false },
      'closed-before-reply',
    ],
    [{ errorCode: 'ERR_SSL_X', tls: false, waiting: true, answered: false }, 'closed'],
    [{ errorCode: 'ECONNRESET', tls: false, waiting: true, answered: true }, 'closed'],
    [{ errorCode: undefined, tls: false, waiting: true, answered: false }, 'closed'],
    [{ errorCode: 'ECONNRESET', tls: false, waiting: false, answered: false }, 'idle-closed'],
  ] as const)('%o → %s', (state, reason) => {
    expect(closedReason(state)).toBe(reason);
  });
});
