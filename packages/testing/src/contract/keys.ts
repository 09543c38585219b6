import { InvalidKeyError, type Transport } from '@lovely-memcached/core';
import { expect, it } from 'vitest';
import { bytes, type ContractContext } from './context';

/**
 * memcached's key rules, the same in every transport: 1-250 bytes of printable ASCII. memcached drops the
 * connection on a key it cannot parse, so a transport refuses one before it is sent, and the memory transport
 * refuses it too (so tests over it catch what production would refuse).
 */
export function keysContract(ctx: ContractContext): void {
  const refusedKeys = [
    '',
    'has space',
    'line\nbreak',
    'carriage\rreturn',
    'tab\tkey',
    'nul\0key',
    'del\x7fkey',
    'k'.repeat(251),
    'caf\u00e9',
  ];

  /** Every call that takes a key (the optional `cas` where offered), with valid other arguments. */
  const keyedCalls = (t: Transport): Array<[string, (key: string) => Promise<unknown>]> => {
    const calls: Array<[string, (key: string) => Promise<unknown>]> = [
      ['get', (key) => t.get(key)],
      ['set', (key) => t.set(key, bytes('v'))],
      ['add', (key) => t.add(key, bytes('v'))],
      ['append', (key) => t.append(key, bytes('v'))],
      ['delete', (key) => t.delete(key)],
      ['urgent delete', (key) => t.delete(key, { urgent: true })],
      ['incr', (key) => t.incr(key, 1)],
      ['touch', (key) => t.touch(key, 10)],
    ];
    const cas = t.cas?.bind(t);
    if (cas !== undefined) calls.push(['cas', (key) => cas(key, bytes('v'), 1n)]);
    return calls;
  };

  it('refuses keys memcached cannot hold with InvalidKeyError, for every keyed call', async () => {
    const t = ctx.transport();
    for (const key of refusedKeys) {
      for (const [name, call] of keyedCalls(t)) {
        const error = await call(key).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, `${name}(${JSON.stringify(key)})`).toBeInstanceOf(InvalidKeyError);
        expect((error as InvalidKeyError).code).toBe('ERR_INVALID_KEY');
      }
    }
  });

  it('a refused key fails its own call only: the next calls are served', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    const pending = t.set(key, bytes('v'));
    await expect(t.get('has space')).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await pending).toBe('stored');
    expect((await t.get(key))?.value).toBeDefined();
  });

  it('accepts 250 bytes of printable ASCII, every printable character included', async () => {
    const t = ctx.transport();
    const key = `${ctx.key('long')}:`.padEnd(250, 'x');
    expect(await t.set(key, bytes('v'))).toBe('stored');
    expect((await t.get(key))?.value).toBeDefined();
    let printable = '';
    for (let code = 0x21; code <= 0x7e; code++) printable += String.fromCharCode(code);
    const odd = `${ctx.key('odd')}:${printable}`;
    expect(await t.set(odd, bytes('v'))).toBe('stored');
    expect((await t.get(odd))?.value).toBeDefined();
  });

  it('leaves keys it cannot hold out of a multi-get, answering the others', async () => {
    const t = ctx.transport();
    const key = ctx.key();
    await t.set(key, bytes('v'));
    const found = await t.getMulti?.([key, 'has space', '', 'k'.repeat(251)]);
    if (found !== undefined) expect([...found.keys()]).toEqual([key]);
  });

  it('reports every key reachable while its server answers, and never throws for one', () => {
    const t = ctx.transport();
    if (t.reachable === undefined) return;
    expect(t.reachable(ctx.key())).toBe(true);
    // A question about where a key lives, not a request: no key is refused here.
    for (const key of refusedKeys) expect(t.reachable(key)).toBe(true);
  });
}
