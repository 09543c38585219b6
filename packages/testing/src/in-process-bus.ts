import type { L1Bus } from '@lovely-memcached/core';

/**
 * An L1 bus inside one process, for tests: every client given `channel.connect()` of the same channel hears the
 * others' invalidations, delivered asynchronously (a microtask later) as pub/sub would. `down()` loses every
 * message until `up()`, as a bus that is unreachable does; `published` and `lost` count them.
 */
export class InProcessBus {
  private readonly listeners = new Set<(message: Uint8Array) => void>();
  private isDown = false;
  published = 0;
  lost = 0;

  /** A bus for one client. */
  connect(): L1Bus {
    const own = new Set<(message: Uint8Array) => void>();
    return {
      publish: (message) => {
        this.published++;
        if (this.isDown) {
          this.lost++;
          return;
        }
        const copy = Uint8Array.from(message);
        const targets = [...this.listeners];
        Promise.resolve().then(() => {
          for (const listener of targets) listener(copy);
        });
      },
      subscribe: (listener) => {
        own.add(listener);
        this.listeners.add(listener);
      },
      close: () => {
        for (const listener of own) this.listeners.delete(listener);
        own.clear();
      },
    };
  }

  /** Sends raw bytes to every subscriber (a message from something that is not this library). */
  inject(message: Uint8Array): void {
    for (const listener of [...this.listeners]) listener(message);
  }

  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }
}

/** A new channel: `inProcessBus().connect()` per client. */
export function inProcessBus(): InProcessBus {
  return new InProcessBus();
}
