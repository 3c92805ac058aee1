// Shared test helpers: fixture paths, temp folders, corrupt-checkpoint builders, in-process CLI.

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { main } from '../bin/cli.js';
import { encodeSafetensorsHeader, readSafetensorsHeader, type StorageDType } from '../compiler/checkpoint/safetensors.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = ['llama32-tiny', 'llama32-tiny-untied', 'stories260K'] as const;
export const fixture = (name: string) => join(ROOT, 'fixtures', name);
export const goldenDir = (name: string) => join(ROOT, 'golden', name);
export const EVAL_IDS = join(ROOT, 'fixtures', 'stories260K-eval', 'tinystories-valid-ids.json');

const temps: string[] = [];
afterEach(() => {
  while (temps.length) rmSync(temps.pop() as string, { recursive: true, force: true });
});

export function tempDir(prefix = 'llamac-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A writable copy of a fixture checkpoint. */
export function copyFixture(name: string): string {
  const d = join(tempDir(), name);
  cpSync(fixture(name), d, { recursive: true });
  return d;
}

export interface RawTensor {
  name: string;
  dtype: StorageDType;
  shape: number[];
  bytes: Uint8Array;
}

/** Every tensor of a safetensors file with its raw bytes. */
export function readRawTensors(file: string): RawTensor[] {
  const h = readSafetensorsHeader(file);
  const buf = readFileSync(file);
  return [...h.tensors.values()]
    .sort((a, b) => a.offset - b.offset)
    .map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: new Uint8Array(buf.subarray(t.offset, t.offset + t.byteLength)) }));
}

export function writeRawTensors(file: string, tensors: readonly RawTensor[]): void {
  const { header } = encodeSafetensorsHeader(tensors, { format: 'pt' });
  writeFileSync(file, Buffer.concat([header, ...tensors.map((t) => t.bytes)]));
}

/** Write a raw header JSON (possibly invalid) followed by `data`. */
export function writeRawSafetensors(file: string, headerJson: string, data: Uint8Array, declaredLength = Buffer.byteLength(headerJson)): void {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(declaredLength));
  writeFileSync(file, Buffer.concat([len, Buffer.from(headerJson), data]));
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export function listDir(d: string): string[] {
  return readdirSync(d).sort();
}
