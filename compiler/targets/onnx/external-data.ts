// Streams initializer bytes into model.onnx.data one tensor at a time, so no more than one
// weight is ever in memory and models over protobuf's 2 GB limit work.

import { closeSync, openSync, writeSync } from 'node:fs';
import { onnx } from './proto.js';

/** Every tensor starts on a 64-byte boundary (aligned loads for mmap'ed data). */
const ALIGN = 64;
const ZEROS = new Uint8Array(ALIGN);

export class ExternalDataWriter {
  private readonly fd: number;
  private offset = 0;

  constructor(
    file: string,
    /** The file name recorded in each TensorProto, relative to model.onnx. */
    readonly location: string,
  ) {
    this.fd = openSync(file, 'w');
  }

  /** Appends one tensor's bytes; returns where they are. */
  write(bytes: Uint8Array): { offset: number; length: number } {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.put(ZEROS.subarray(0, pad));
    const offset = this.offset;
    this.put(bytes);
    return { offset, length: bytes.byteLength };
  }

  get size(): number {
    return this.offset;
  }

  close(): void {
    closeSync(this.fd);
  }

  private put(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done);
    this.offset += bytes.byteLength;
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
