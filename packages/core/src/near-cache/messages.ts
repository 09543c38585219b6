/**
 * What travels on an L1 bus: invalidations only, never values, in a compact binary form.
 *
 *   'L' '1' version(1) kind(1) sender(16 bytes) count(u16 BE) then count × (length(u8) ASCII key)
 *
 * kind 1: memcached keys to drop; kind 2: token keys (a dependency's or a namespace's) whose dependents to drop;
 * kind 3: everything (`invalidateAll`, no keys). Keys are our memcached keys and token keys: printable ASCII,
 * at most 250 bytes. Anything else on the channel is not ours: decoded as `undefined`, never a throw.
 */
export const MESSAGE_VERSION = 1;
const MAGIC_0 = 0x4c; // 'L'
const MAGIC_1 = 0x31; // '1'
export const SENDER_BYTES = 16;
const HEADER = 4 + SENDER_BYTES + 2;
const MAX_KEYS = 0xffff;

export const MessageKind = { KEYS: 1, TOKENS: 2, ALL: 3 } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

export interface L1Message {
  kind: MessageKind;
  /** Hex of the sending cache's id: a process ignores its own messages. */
  sender: string;
  keys: string[];
}

/** One or more messages (more than 65,535 keys are split). */
export function encodeMessages(kind: MessageKind, sender: Uint8Array, keys: readonly string[]): Uint8Array[] {
  const messages: Uint8Array[] = [];
  for (let start = 0; start === 0 || start < keys.length; start += MAX_KEYS) {
    const part = keys.slice(start, start + MAX_KEYS);
    let length = HEADER;
    for (const key of part) length += 1 + Buffer.byteLength(key, 'latin1');
    const bytes = Buffer.allocUnsafe(length);
    bytes[0] = MAGIC_0;
    bytes[1] = MAGIC_1;
    bytes[2] = MESSAGE_VERSION;
    bytes[3] = kind;
    bytes.set(sender.subarray(0, SENDER_BYTES), 4);
    bytes.writeUInt16BE(part.length, 4 + SENDER_BYTES);
    let offset = HEADER;
    for (const key of part) {
      const written = bytes.write(key, offset + 1, 'latin1');
      bytes[offset] = written;
      offset += 1 + written;
    }
    messages.push(bytes);
  }
  return messages;
}

const PRINTABLE = /^[\x21-\x7e]{1,250}$/;

/** The message, or undefined when the bytes are not one of ours (another version, another sender's format). */
export function decodeMessage(input: unknown): L1Message | undefined {
  const bytes = toBuffer(input);
  if (bytes === undefined || bytes.length < HEADER) return undefined;
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1 || bytes[2] !== MESSAGE_VERSION) return undefined;
  const kind = bytes[3];
  if (kind !== MessageKind.KEYS && kind !== MessageKind.TOKENS && kind !== MessageKind.ALL) return undefined;
  const sender = bytes.toString('hex', 4, 4 + SENDER_BYTES);
  const count = bytes.readUInt16BE(4 + SENDER_BYTES);
  const keys: string[] = [];
  let offset = HEADER;
  for (let i = 0; i < count; i++) {
    const length = bytes[offset];
    if (length === undefined || offset + 1 + length > bytes.length) return undefined;
    const key = bytes.toString('latin1', offset + 1, offset + 1 + length);
    if (!PRINTABLE.test(key)) return undefined;
    keys.push(key);
    offset += 1 + length;
  }
  if (offset !== bytes.length) return undefined;
  if (kind !== MessageKind.ALL && keys.length === 0) return undefined;
  return { kind, sender, keys };
}

function toBuffer(input: unknown): Buffer | undefined {
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (typeof input === 'string') return Buffer.from(input, 'latin1');
  return undefined;
}
