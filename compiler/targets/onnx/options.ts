// The ONNX target's options, read from CompileContext.options (strings from the CLI).

import { LlamacError } from '../../errors.js';
import type { QuantConfig } from '../../passes/quant-config.js';
import type { LowerOptions, MatrixDtype, OnnxOps } from './context.js';

/** Option keys this target reads from ctx.options. */
export const OPTION_KEYS = {
  /** 'ort' (default): com.microsoft contrib ops; 'standard': ai.onnx opset 23 only. */
  ops: 'onnxOps',
  /** MatMulNBits accuracy_level '0'..'4' (default '0': float32 compute, matches the interpreter). */
  accuracyLevel: 'onnxAccuracyLevel',
} as const;

/** ai.onnx opset and IR version per flavour (opset 23 needs IR 11). */
export const OPSETS: Record<OnnxOps, { readonly opset: number; readonly irVersion: number; readonly msOpset: number | null }> = {
  ort: { opset: 21, irVersion: 10, msOpset: 1 },
  standard: { opset: 23, irVersion: 11, msOpset: null },
};

export function parseOnnxOptions(options: Readonly<Record<string, string>>, quant: QuantConfig): LowerOptions {
  const ops = options[OPTION_KEYS.ops] ?? 'ort';
  if (ops !== 'ort' && ops !== 'standard') throw new LlamacError(`--onnx-ops must be 'ort' or 'standard', got '${ops}'`);
  const levelText = options[OPTION_KEYS.accuracyLevel] ?? '0';
  const accuracyLevel = Number(levelText);
  if (!/^[0-4]$/.test(levelText)) throw new LlamacError(`--onnx-accuracy-level must be 0..4, got '${levelText}'`);
  const matrixDtype: MatrixDtype = quant.name === 'f16' ? 'f16' : 'f32';
  return { ops: ops as OnnxOps, matrixDtype, accuracyLevel };
}
