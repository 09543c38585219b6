/**
 * Types as an application with the strictest settings sees them (issue 23.5, 23.6, 23.13): compiled with
 * `exactOptionalPropertyTypes`, which the repository's own tsconfig leaves off. `servers: process.env.X`
 * (`string | undefined`) type-checks, as it works at runtime; duration strings are typed, misspelt ones are not.
 * Each `@ts-expect-error` fails the compile when its line has no error, so the refusals are checked too.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { writeBlocks } from './support/typecheck-blocks';

const root = join(import.meta.dirname, '..');

const SAMPLE = `
import { MemcachedClient, type Duration } from '@lovely-memcached/core';
import { TestMemcachedClient } from '@lovely-memcached/testing';
import { memoryTransport } from '@lovely-memcached/transport-memory';

const transport = memoryTransport();
const fromEnv: string | undefined = process.env.MEMCACHED_SERVERS;
const a = new MemcachedClient({ transport, servers: fromEnv });
const b = new MemcachedClient({ transport, servers: process.env.MEMCACHED_SERVERS, defaultLifetime: '5m' });
const c = new TestMemcachedClient({ servers: process.env.MEMCACHED_SERVERS });

await a.set('k', 'v', { lifetime: '1h' });
await a.set('k', 'v', { lifetime: 60 });
await a.getOrSet('k', () => 1, { lifetime: '30s', grace: '1d', lockTimeout: '2s', timeout: 250, hardTimeout: '1.5s' });
const ok: Duration[] = ['250ms', '30s', '5m', '1h', '1d', 1.5];

// @ts-expect-error a duration string needs one of the units
await a.set('k', 'v', { lifetime: '5 minutes' });
// @ts-expect-error no unit at all: a bare number string is not a duration
await a.set('k', 'v', { lifetime: '60' });
// @ts-expect-error an option of another cache: ours is \`lifetime\`
await a.set('k', 'v', { ttl: 60 });
// @ts-expect-error misspelt
new MemcachedClient({ transport, sever: '127.0.0.1:11211' });

// A raw value is a string or bytes (#23.13).
const raw: string | Uint8Array | undefined = await b.query('k', { raw: true });
const rawOrDefault: string | Uint8Array | number = await b.query('k', { raw: true, default: 0 });
// @ts-expect-error a raw read may miss
const notUndefined: string | Uint8Array = await b.query('k', { raw: true });
c.memory.down('127.0.0.1:11211'); // its own memory transport: there, no \`?.\`
console.log(ok, raw, rawOrDefault, notUndefined);
`;

describe('types under exactOptionalPropertyTypes', () => {
  it('servers from process.env, duration strings, raw queries, TestMemcachedClient.memory', () => {
    const folder = writeBlocks(root, [
      { readme: 'strict-types', index: 1, line: 1, mode: 'typecheck', code: SAMPLE },
    ]);
    try {
      const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (path) => ts.sys.readFile(path));
      const { options } = ts.parseJsonConfigFileContent(
        { ...base.config, compilerOptions: { ...base.config.compilerOptions, noEmit: true } },
        ts.sys,
        root,
      );
      options.exactOptionalPropertyTypes = true;
      options.customConditions = ['@lovely-memcached/source'];
      const file = (folder.written[0] as { file: string }).file;
      const program = ts.createProgram([file], options);
      const source = program.getSourceFile(file);
      if (source === undefined) throw new Error(`the compiler did not read ${file}`);
      // Only the sample's own diagnostics: the packages' sources are compiled with their own settings.
      const messages = [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ].map((diagnostic) => {
        const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        return `line ${line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
      });
      expect(messages).toEqual([]);
    } finally {
      folder.remove();
    }
  }, 120_000);
});
