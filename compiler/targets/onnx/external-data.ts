// Streams initializer bytes into model.onnx.data one tensor (or one block of rows) at a time, so
// no more than one weight is ever in memory and models over protobuf's 2 GB limit work. The
// file's sha256 is computed from the bytes as they go by (the manifest needs it), so the data
// file is never read back.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { onnx } from './proto.js';

/** Every tensor starts on a 64-byte boundary (aligned loads for mmap'ed data). */
const ALIGN = 64;
const ZEROS = new Uint8Array(ALIGN);

export class ExternalDataWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | null = null;

  constructor(
    file: string,
    /** The file name recorded in each TensorProto, relative to model.onnx. */
    readonly location: string,
    /** Called with the file size after each piece (progress). */
    private readonly onWrite: (size: number) => void = () => {},
  ) {
    this.fd = openSync(file, 'w');
  }

  /** Appends one tensor's bytes; returns where they are. */
  write(bytes: Uint8Array): { offset: number; length: number } {
    return this.writeStream(bytes.byteLength, (put) => put(bytes));
  }

  /**
   * Appends one tensor of `length` bytes that `fill` hands over in pieces (each piece is written
   * before put returns, so the caller may reuse its buffer); returns where they are.
   */
  writeStream(length: number, fill: (put: (bytes: Uint8Array) => void) => void): { offset: number; length: number } {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.put(ZEROS.subarray(0, pad));
    const offset = this.offset;
    fill((bytes) => this.put(bytes));
    if (this.offset - offset !== length) throw new Error(`internal: tensor wrote ${this.offset - offset} bytes, declared ${length}`);
    return { offset, length };
  }

  get size(): number {
    return this.offset;
  }

  /** sha256 (hex) of everything written; call after the last write. */
  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  close(): void {
    closeSync(this.fd);
  }

  private put(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.hash.update(bytes);
    this.offset += bytes.byteLength;
    this.onWrite(this.offset);
  }
}

/**
 * model.onnx with every initializer's external-data location set to `location` (a client that
 * looks for the weights under another file name, e.g. transformers.js's model.onnx_data). The
 * proto is re-encoded by the same onnx-proto schema llamac wrote it with, so nothing is lost.
 */
export function relocateExternalData(model: Uint8Array, location: string): Uint8Array {
  const m = onnx.ModelProto.decode(model);
  for (const t of m.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location') e.value = location;
  }
  return onnx.ModelProto.encode(m).finish();
}

/** The graph's input and output names and its op types (domain-qualified), for layout checks. */
export function modelSignature(model: Uint8Array): { inputs: string[]; outputs: string[]; opTypes: string[] } {
  const g = onnx.ModelProto.decode(model).graph;
  return {
    inputs: (g?.input ?? []).map((v) => v.name ?? ''),
    outputs: (g?.output ?? []).map((v) => v.name ?? ''),
    opTypes: [...new Set((g?.node ?? []).map((n) => (n.domain ? `${n.domain}.${n.opType}` : String(n.opType))))].sort(),
  };
}
