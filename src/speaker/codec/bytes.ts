/**
 * Copies bytes out of a received buffer. Decoded values must never alias the caller's buffer
 * (a connection reuses its receive buffer), and Buffer#slice, unlike Uint8Array#slice, does
 * not copy: hence one explicit helper, returning a plain Uint8Array.
 */
export function copyBytes(v: Uint8Array, start = 0, end = v.length): Uint8Array {
  return new Uint8Array(v.subarray(start, end));
}
