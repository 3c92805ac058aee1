// The ONNX target's options (declared as data: the CLI builds --onnx-ops and --onnx-accuracy-level
// from these) and the lowering options derived from them.

import type { QuantConfig } from '../../passes/quant-config.js';
import type { OptionValues } from '../options.js';
import type { LowerOptions, MatrixDtype, OnnxOps } from './context.js';

export const ONNX_OPTIONS = {
  ops: {
    flag: 'onnx-ops',
    kind: 'enum',
    values: ['ort', 'standard'],
    default: 'ort',
    help: 'onnx target: ort (com.microsoft contrib ops; opset 21, IR 10) | standard (ai.onnx opset 23 only, IR 11)',
  },
  accuracyLevel: {
    flag: 'onnx-accuracy-level',
    kind: 'int',
    min: 0,
    max: 4,
    default: 0,
    help: 'onnx target: MatMulNBits accuracy_level (0 = float32 compute, matches the interpreter; 4 = int8 activations, faster)',
  },
} as const;

export type OnnxOptionValues = OptionValues<typeof ONNX_OPTIONS>;

/** ai.onnx opset and IR version per flavour (opset 23 needs IR 11). */
export const OPSETS: Record<OnnxOps, { readonly opset: number; readonly irVersion: number; readonly msOpset: number | null }> = {
  ort: { opset: 21, irVersion: 10, msOpset: 1 },
  standard: { opset: 23, irVersion: 11, msOpset: null },
};

export function lowerOptions(o: OnnxOptionValues, quant: QuantConfig): LowerOptions {
  const matrixDtype: MatrixDtype = quant.name === 'f16' ? 'f16' : 'f32';
  return { ops: o.ops, matrixDtype, accuracyLevel: o.accuracyLevel };
}
