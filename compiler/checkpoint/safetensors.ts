// safetensors reading by offset. Only the JSON header is parsed eagerly; tensor bytes are read
// when a consumer asks, a row range at a time if need be, so no checkpoint is read whole.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LlamacError } from '../errors.js';
import { decodeBF16, decodeF16 } from '../ir/half.js';
import { describeJson } from '../messages.js';

/** The reference implementation's limit on the JSON header (safetensors MAX_HEADER_SIZE). */
export const MAX_HEADER_BYTES = 100_000_000;

export type StorageDType = 'BF16' | 'F16' | 'F32';
export const DTYPE_BYTES: Readonly<Record<StorageDType, number>> = { BF16: 2, F16: 2, F32: 4 };

export interface TensorRef {
  readonly name: string;
  readonly file: string;
  readonly dtype: StorageDType;
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly file: string;
  readonly tensors: ReadonlyMap<string, TensorRef>;
  readonly metadata: Readonly<Record<string, string>>;
}

function isStorageDType(s: string): s is StorageDType {
  return s === 'BF16' || s === 'F16' || s === 'F32';
}

function readExactly(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('unexpected end of file');
    done += n;
  }
}

/** Parse and validate a safetensors header; reads only the header bytes. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new LlamacError(`${file}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new LlamacError(`${file}: truncated file (${size} bytes): no header length`);
    const lenBuf = new Uint8Array(8);
    readExactly(fd, lenBuf, 0);
    // A u64: kept as a bigint until it is known to be small, so 2^64-1 is printed exactly.
    const declared = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (8n + declared > BigInt(size)) throw new LlamacError(`${file}: header length ${declared} runs past the end of the file (${size} bytes)`);
    if (declared > BigInt(MAX_HEADER_BYTES)) throw new LlamacError(`${file}: header length ${declared} is over the safetensors limit of ${MAX_HEADER_BYTES} bytes`);
    const headerLen = Number(declared);
    const headerBytes = new Uint8Array(headerLen);
    readExactly(fd, headerBytes, 8);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(headerBytes));
    } catch (e) {
      throw new LlamacError(`${file}: bad JSON header: ${(e as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LlamacError(`${file}: bad JSON header: not an object`);
    const safeInt = (d: unknown): d is number => Number.isSafeInteger(d);
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    const tensors = new Map<string, TensorRef>();
    let metadata: Record<string, string> = {};
    const spans: Array<{ name: string; begin: number; end: number }> = [];
    for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (entry !== null && (typeof entry !== 'object' || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string'))) {
          throw new LlamacError(`${file}: __metadata__ must map names to strings, got ${describeJson(entry)}`);
        }
        metadata = (entry ?? {}) as Record<string, string>;
        continue;
      }
      const where = `${file}: tensor '${name}'`;
      if (typeof entry !== 'object' || entry === null) throw new LlamacError(`${where}: header entry is not an object`);
      const { dtype, shape, data_offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof dtype !== 'string') throw new LlamacError(`${where}: missing dtype`);
      if (!isStorageDType(dtype)) throw new LlamacError(`${where}: unknown dtype '${dtype}' (supported: BF16, F16, F32)`);
      if (!Array.isArray(shape) || !shape.every((d) => safeInt(d) && d >= 0)) throw new LlamacError(`${where}: bad shape ${describeJson(shape)}`);
      if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(safeInt)) {
        throw new LlamacError(`${where}: bad data_offsets ${describeJson(data_offsets)}`);
      }
      const [begin, end] = data_offsets as [number, number];
      if (begin < 0 || end < begin || end > dataLen) {
        throw new LlamacError(`${where}: data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes)`);
      }
      // Exact even when dims multiply past 2^53.
      const expected = (shape as number[]).reduce((a, b) => a * BigInt(b), BigInt(DTYPE_BYTES[dtype]));
      if (BigInt(end - begin) !== expected) {
        throw new LlamacError(`${where}: byte length ${end - begin} does not match ${dtype} x [${(shape as number[]).join(', ')}] = ${expected} bytes`);
      }
      spans.push({ name, begin, end });
      tensors.set(name, { name, file, dtype, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin });
    }
    spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
    for (let i = 1; i < spans.length; i++) {
      const prev = spans[i - 1];
      const cur = spans[i];
      if (cur.begin < prev.end && cur.end > cur.begin) {
        throw new LlamacError(`${file}: tensor '${cur.name}' overlaps tensor '${prev.name}' (bytes ${cur.begin}..${cur.end} vs ${prev.begin}..${prev.end})`);
      }
    }
    return { file, tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

function decodeInto(dtype: StorageDType, bytes: Uint8Array, out: Float32Array): void {
  if (dtype === 'BF16') decodeBF16(bytes, out);
  else if (dtype === 'F16') decodeF16(bytes, out);
  else out.set(new Float32Array(bytes.buffer, bytes.byteOffset, out.length));
}

/** Exponent mask of each storage dtype: all ones means Inf or NaN. */
const EXPONENT_MASK: Readonly<Record<StorageDType, number>> = { BF16: 0x7f80, F16: 0x7c00, F32: 0x7f800000 };

/**
 * Index of the first NaN/Inf in raw little-endian data, or -1. Works on the stored bits before
 * decoding: an OR over (exponent & mask) + lowest-exponent-bit overflows into the sign position
 * only for an all-ones exponent, so the common all-finite case is one branch-free pass.
 */
function firstNonFinite(dtype: StorageDType, bytes: Uint8Array): number {
  const mask = EXPONENT_MASK[dtype];
  const lowBit = mask & -mask;
  const words = dtype === 'F32' ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  const carry = dtype === 'F32' ? 0x80000000 : 0x8000;
  let acc = 0;
  for (let i = 0; i < words.length; i++) acc |= (words[i] & mask) + lowBit;
  // `|=` keeps int32: for F32 the overflow lands in the sign bit.
  const clean = dtype === 'F32' ? acc >= 0 : (acc & carry) === 0;
  if (clean) return -1;
  for (let i = 0; i < words.length; i++) if ((words[i] & mask) === mask) return i;
  return -1;
}

let scratch = new Uint8Array(0);

/** A reused, 8-byte aligned read buffer: reading a checkpoint allocates only the float32 results. */
function scratchBytes(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  return scratch.subarray(0, n);
}

/**
 * Read rows [rowStart, rowStart+rowCount) of a tensor (a 1-D tensor is one row) as float32,
 * checking for NaN/Inf. Reads only those bytes.
 */
export function readTensorRows(ref: TensorRef, rowStart: number, rowCount: number): Float32Array {
  const rowLen = ref.shape.length <= 1 ? ref.shape[0] ?? 1 : ref.shape.slice(1).reduce((a, b) => a * b, 1);
  const rows = ref.shape.length <= 1 ? 1 : ref.shape[0];
  if (rowStart < 0 || rowStart + rowCount > rows) throw new Error(`row range ${rowStart}+${rowCount} outside tensor '${ref.name}' with ${rows} rows`);
  const esize = DTYPE_BYTES[ref.dtype];
  const out = new Float32Array(rowLen * rowCount);
  const bytes = scratchBytes(out.length * esize);
  const fd = openSync(ref.file, 'r');
  try {
    readExactly(fd, bytes, ref.offset + rowStart * rowLen * esize);
  } catch (e) {
    throw new LlamacError(`${ref.file}: tensor '${ref.name}': ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  const bad = firstNonFinite(ref.dtype, bytes);
  if (bad >= 0) {
    const v = ref.dtype === 'F32' ? new Float32Array(bytes.buffer, bad * 4, 1)[0] : NaN;
    const word = ref.dtype === 'F32' ? 0 : new Uint16Array(bytes.buffer, bad * 2, 1)[0];
    const mantissa = ref.dtype === 'F32' ? !Number.isFinite(v) && Number.isNaN(v) : (word & (ref.dtype === 'BF16' ? 0x7f : 0x3ff)) !== 0;
    throw new LlamacError(`${ref.file}: tensor '${ref.name}' contains ${mantissa ? 'NaN' : 'Inf'} at element ${rowStart * rowLen + bad}`);
  }
  decodeInto(ref.dtype, bytes, out);
  return out;
}

export function readTensor(ref: TensorRef): Float32Array {
  const rows = ref.shape.length <= 1 ? 1 : ref.shape[0];
  return readTensorRows(ref, 0, rows);
}

export interface TensorEntry {
  readonly name: string;
  readonly dtype: StorageDType;
  readonly shape: readonly number[];
}

/**
 * The safetensors header for tensors laid out back to back in this order (padded to 8 bytes, as
 * the reference writer does). Needs no tensor data, so writers can stream the data after it.
 */
export function encodeSafetensorsHeader(tensors: readonly TensorEntry[], metadata?: Record<string, string>): { header: Uint8Array; dataLength: number } {
  const obj: Record<string, unknown> = {};
  if (metadata) obj['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    const length = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    obj[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(obj);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const jsonBytes = new TextEncoder().encode(json);
  const header = new Uint8Array(8 + jsonBytes.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  header.set(jsonBytes, 8);
  return { header, dataLength: offset };
}
