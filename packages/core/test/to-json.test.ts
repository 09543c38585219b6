/**
 * Issue 23, item 3: a class instance with `toJSON` (Luxon's DateTime, Decimal, an ORM document) is stored as what
 * `toJSON` returns, as `JSON.stringify` does; Dates stay Dates, bytes stay bytes.
 */
import { memoryTransport } from '@lovely-memcached/transport-memory';
import { describe, expect, it } from 'vitest';
import { MemcachedClient } from '../src';
import { decodeValue, encodeValue } from '../src/serializer';

/** Like Decimal.js: private-looking fields, a string as JSON. */
class Decimal {
  readonly d: number[];
  readonly e: number;
  constructor(readonly text: string) {
    this.d = [...text.replace('.', '')].map(Number);
    this.e = text.indexOf('.');
  }
  toJSON(): string {
    return this.text;
  }
}

/** Like Luxon's DateTime: an ISO string as JSON. */
class DateTime {
  readonly ts: number;
  readonly zone = { name: 'UTC', offset: () => 0 };
  constructor(ts: number) {
    this.ts = ts;
  }
  toJSON(): string {
    return new Date(this.ts).toISOString();
  }
}

/** Like an ORM document: `toJSON` gives a plain object that holds further instances with `toJSON`. */
class ObjectId {
  constructor(readonly hex: string) {}
  toJSON(): string {
    return this.hex;
  }
}
class UserDocument {
  readonly $__ = { saved: true, emitter: () => {} };
  constructor(
    readonly id: ObjectId,
    readonly name: string,
    readonly balance: Decimal,
  ) {}
  toJSON(): Record<string, unknown> {
    return { _id: this.id, name: this.name, balance: this.balance };
  }
}

const roundTrip = (value: unknown) => {
  const { bytes, encoding } = encodeValue(value);
  return { value: decodeValue(bytes, encoding), encoding };
};

describe('values with toJSON are stored as what toJSON returns', () => {
  it('a Decimal, a DateTime, at the top and inside plain data, as JSON', () => {
    expect(roundTrip(new Decimal('12.50'))).toEqual({ value: '12.50', encoding: 'json' });
    expect(roundTrip({ price: new Decimal('12.50'), at: new DateTime(0) })).toEqual({
      value: { price: '12.50', at: '1970-01-01T00:00:00.000Z' },
      encoding: 'json',
    });
    expect(roundTrip([new Decimal('1'), new Decimal('2')]).value).toEqual(['1', '2']);
  });

  it('an ORM document: its toJSON, with the instances that holds turned too', () => {
    const user = new UserDocument(new ObjectId('65f0c0ffee'), 'Ada', new Decimal('3.14'));
    expect(roundTrip(user).value).toEqual({ _id: '65f0c0ffee', name: 'Ada', balance: '3.14' });
    expect(JSON.parse(JSON.stringify(user))).toEqual(roundTrip(user).value);
  });

  it('Dates stay Dates, bytes stay bytes, even though both have toJSON', () => {
    const when = new Date(Date.UTC(2030, 0, 1));
    const stored = roundTrip({ when, price: new Decimal('9.99'), bytes: Buffer.from('hi') });
    expect(stored.encoding).toBe('v8');
    const value = stored.value as { when: Date; price: unknown; bytes: Uint8Array };
    expect(value.when).toBeInstanceOf(Date);
    expect(value.when.getTime()).toBe(when.getTime());
    expect(value.price).toBe('9.99');
    expect(Buffer.from(value.bytes).toString()).toBe('hi');
  });

  it('inside a Map or a Set, and shared: asked once, the answer stored in every place', () => {
    let calls = 0;
    const shared = {
      toJSON() {
        calls++;
        return { n: calls };
      },
    };
    const value = roundTrip({ map: new Map([['a', shared]]), set: new Set([shared]), again: shared })
      .value as { map: Map<string, unknown>; set: Set<unknown>; again: unknown };
    expect(calls).toBe(1);
    expect(value.map.get('a')).toEqual({ n: 1 });
    expect([...value.set]).toEqual([{ n: 1 }]);
    expect(value.again).toBe(value.map.get('a')); // one object, as it was one instance
  });

  it('toJSON gets the property name, as JSON.stringify passes it', () => {
    const names: string[] = [];
    const probe = {
      toJSON(name: string) {
        names.push(name);
        return name;
      },
    };
    expect(roundTrip({ field: probe, list: [probe] }).value).toEqual({ field: 'field', list: ['field'] });
    expect(names).toEqual(['field']); // one instance: asked once
    names.length = 0;
    expect(roundTrip({ a: { toJSON: (n: string) => n }, b: [{ toJSON: (n: string) => n }] }).value).toEqual({
      a: 'a',
      b: ['0'],
    });
  });

  it('what toJSON returns is not asked again, as JSON.stringify does (no loop between two)', () => {
    const a: { toJSON(): unknown } = { toJSON: () => b };
    const b: { toJSON(): unknown; x: number } = { toJSON: () => a, x: 1 };
    expect(() => encodeValue(a)).toThrow(expect.objectContaining({ code: 'ERR_NOT_SERIALIZABLE' })); // b.toJSON is a function
    const self = {
      x: 1,
      toJSON() {
        return this;
      },
    };
    expect(() => encodeValue(self)).toThrow(/a function at value\.toJSON/);
  });

  it('a toJSON that throws, or returns undefined, is ERR_NOT_SERIALIZABLE naming where', () => {
    const broken = {
      inner: {
        toJSON() {
          throw new Error('not loaded');
        },
      },
    };
    expect(() => encodeValue(broken)).toThrow(
      expect.objectContaining({
        code: 'ERR_NOT_SERIALIZABLE',
        message: expect.stringContaining('at value.inner: its toJSON() threw (not loaded)'),
      }),
    );
    expect(() => encodeValue({ x: { toJSON: () => undefined } })).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_SERIALIZABLE', message: expect.stringContaining('value.x') }),
    );
  });

  it('through the client: set and getOrSet store the toJSON form; the first caller gets its own value', async () => {
    const client = new MemcachedClient({ transport: memoryTransport() });
    await client.set('price', { amount: new Decimal('12.50') });
    expect(await client.query('price')).toEqual({ amount: '12.50' });
    const computed = { at: new DateTime(0), when: new Date(0) };
    expect(await client.getOrSet('event', () => computed)).toBe(computed);
    const hit = await client.getOrSet('event', () => computed);
    expect(hit).toEqual({ at: '1970-01-01T00:00:00.000Z', when: new Date(0) });
    await client.close();
  });
});
