/** Bytes as a Buffer, for its readers and decoders: the same memory, never a copy (Buffer.from(uint8array) copies). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
