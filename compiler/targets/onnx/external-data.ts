// Streams initializer bytes into model.onnx.data one tensor at a time, so no more than one
// weight is ever in memory and models over protobuf's 2 GB limit work.

import { closeSync, openSync, writeSync } from 'node:fs';

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
