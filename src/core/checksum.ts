/**
 * Checksums for the project's file formats: CRC-32 (IEEE 802.3, as in zip, gzip and PNG) over
 * bytes, incrementally (files are checked while they stream), and a 64-bit fingerprint of a
 * float matrix (the catalog a trace was generated over). Browser-safe.
 */

const TABLES = 8;
let tables: Uint32Array | null = null;

/** Slicing-by-8 tables: 8 bytes per step instead of 1, ~4x faster in V8 on large inputs. */
function crcTables(): Uint32Array {
  if (tables) return tables;
  const t = new Uint32Array(256 * TABLES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++)
    for (let s = 1; s < TABLES; s++)
      t[s * 256 + n] = (t[(s - 1) * 256 + n] >>> 8) ^ t[t[(s - 1) * 256 + n] & 0xff];
  tables = t;
  return t;
}

/**
 * Continues a CRC-32 over bytes[start, end): `crc32Update(crc32Update(0, a), b)` equals the CRC of
 * a followed by b. Start from 0.
 */
export function crc32Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crcTables();
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of bytes[start, end). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Update(0, bytes, start, end);
}

/** A CRC as 8 lower-case hex digits. */
export function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, "0");
}

/**
 * A 64-bit fingerprint ("fp64:" + 16 hex digits) of an n x dim float32 matrix: two independent
 * multiply-xorshift lanes over the raw bits, seeded with the shape. Not cryptographic: it tells
 * apart catalogs that differ anywhere (same shape or not), at a few hundred MB/s.
 */
export function matrixFingerprint(values: Float32Array, n: number, dim: number): string {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let a = (0x9e3779b9 ^ n) >>> 0;
  let b = (0x85ebca6b ^ Math.imul(dim, 0xc2b2ae35)) >>> 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    a = Math.imul(a ^ w, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b + w, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 16), 0xc2b2ae35);
  return `fp64:${hex32(a ^ (b >>> 7))}${hex32(b ^ (a >>> 11))}`;
}
