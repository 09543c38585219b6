/**
 * Process warnings a test provokes on purpose (a server that never answered, a command a proxy cannot route, a
 * user callback that threw) are captured instead of printed, and kept for the test to assert on: in the test log a
 * `LovelyMemcachedWarning` reads like a failure. Only the codes asked for are captured; any other warning (one
 * nobody expected) still prints.
 *
 *   const expected = expectWarnings('LOVELY_MEMCACHED_UNREACHABLE'); // every test of the file or describe block
 *   const capture = captureWarnings('LOVELY_MEMCACHED'); try { … } finally { capture.restore(); } // one stretch
 */
import { afterEach, beforeEach, vi } from 'vitest';

/** The codes the library's warnings carry. */
export type WarningCode =
  | 'LOVELY_MEMCACHED' // a warning given once per process for each kind (core's warnOnce)
  | 'LOVELY_MEMCACHED_UNREACHABLE' // no server a transport was given has answered since it was made
  | 'LOVELY_MEMCACHED_AUTH' // a server refused the transport's credentials
  | 'LOVELY_MEMCACHED_BUS_ERROR' // an InvalidationBus failure with no error listener
  | 'LOVELY_MEMCACHED_KEYV_SHARED_STORE'; // one Keyv store shared by two Keyv namespaces

export interface CapturedWarning {
  type: string;
  code: string | undefined;
  message: string;
}

type EmitWarningArgs = Parameters<typeof process.emitWarning>;

/** The type, code and message of a `process.emitWarning` call, whichever of its signatures was used. */
function read([warning, options, code]: unknown[]): CapturedWarning {
  const message = warning instanceof Error ? warning.message : String(warning);
  if (typeof options === 'object' && options !== null) {
    const { type, code: optionCode } = options as { type?: string; code?: string };
    return { type: type ?? 'Warning', code: optionCode, message };
  }
  const type = typeof options === 'string' ? options : warning instanceof Error ? warning.name : 'Warning';
  return { type, code: typeof code === 'string' ? code : undefined, message };
}

/** Captures the `LovelyMemcachedWarning`s with these codes until `restore()`. */
export function captureWarnings(...codes: WarningCode[]): {
  readonly warnings: CapturedWarning[];
  restore(): void;
} {
  const warnings: CapturedWarning[] = [];
  const original = process.emitWarning;
  const spy = vi.spyOn(process, 'emitWarning').mockImplementation((...args: EmitWarningArgs) => {
    const warning = read(args);
    if (warning.type === 'LovelyMemcachedWarning' && codes.includes(warning.code as WarningCode)) {
      warnings.push(warning);
      return;
    }
    Reflect.apply(original, process, args);
  });
  return { warnings, restore: () => spy.mockRestore() };
}

/**
 * Captures the `LovelyMemcachedWarning`s with these codes during each test of the calling file or describe block;
 * `warnings` holds the current test's.
 */
export function expectWarnings(...codes: WarningCode[]): { readonly warnings: CapturedWarning[] } {
  let capture: ReturnType<typeof captureWarnings> | undefined;
  const expected = {
    get warnings(): CapturedWarning[] {
      return capture?.warnings ?? [];
    },
  };
  beforeEach(() => {
    capture = captureWarnings(...codes);
  });
  afterEach(() => {
    capture?.restore();
  });
  return expected;
}
