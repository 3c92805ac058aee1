// Quantization options as the passes see them. Presets are data (compiler/quant/ owns the maths).

import { LlamacError } from '../errors.js';
import type { QuantMethod, QuantScheme } from '../ir/quantized.js';

export type QuantName = 'f32' | 'f16' | 'int8' | 'int4' | 'q4_0';
export type EmbeddingQuant = 'none' | 'int8' | 'int4';

export interface QuantConfig {
  /** Which preset ('f32' = none). f16 is a storage choice of targets; the IR keeps f32 numbers. */
  readonly name: QuantName;
  /** Scheme for the transformer-block linears; null when not quantizing. */
  readonly linear: QuantScheme | null;
  /** Scheme for the embedding table and a tied lm_head; null keeps them dense. */
  readonly embeddings: QuantScheme | null;
  /**
   * Token-id sequences to calibrate on (GPTQ/AWQ); 'self' samples them from the model; 'auto' does
   * so only when the interpreter can do it quickly (see quantize.ts). Never the evaluation set.
   */
  readonly calibration: CalibrationSource;
}

export type CalibrationSource = readonly (readonly number[])[] | 'self' | 'auto' | null;

export const NO_QUANT: QuantConfig = { name: 'f32', linear: null, embeddings: null, calibration: null };

export interface QuantCliOptions {
  readonly quant: string;
  readonly groupSize?: number;
  readonly symmetric?: boolean;
  readonly scaleDtype?: string;
  readonly method?: string;
  readonly quantEmbeddings?: string;
  readonly calibration?: CalibrationSource;
}

const QUANT_NAMES: readonly QuantName[] = ['f32', 'f16', 'int8', 'int4', 'q4_0'];
const GROUP_SIZES = [32, 64, 128];

function isQuantName(s: string): s is QuantName {
  return (QUANT_NAMES as readonly string[]).includes(s);
}

/**
 * The one place CLI quantization options become schemes. Defaults: int4 = asymmetric, group 32,
 * f16 scales, AWQ + GPTQ on calibration text (given, or sampled from the model when that is
 * cheap), else the error-minimizing search; int8 = per channel, symmetric.
 */
export function makeQuantConfig(o: QuantCliOptions): QuantConfig {
  if (!isQuantName(o.quant)) throw new LlamacError(`--quant: unknown '${o.quant}' (known: ${QUANT_NAMES.join(', ')})`);
  const g = o.groupSize ?? 32;
  if (!GROUP_SIZES.includes(g)) throw new LlamacError(`--group-size: ${g} is not one of ${GROUP_SIZES.join(', ')}`);
  const scaleDtype = o.scaleDtype ?? 'f16';
  if (scaleDtype !== 'f16' && scaleDtype !== 'f32') throw new LlamacError(`--scale-dtype: '${scaleDtype}' is not f16 or f32`);
  const methods: readonly QuantMethod[] = ['rtn', 'search', 'gptq', 'awq'];
  const method = (o.method ?? 'awq') as QuantMethod;
  if (!methods.includes(method)) throw new LlamacError(`--quant-method: '${o.method}' is not one of ${methods.join(', ')}`);
  const calibrated = method === 'gptq' || method === 'awq';
  if (!calibrated && o.calibration) throw new LlamacError(`--calibration: --quant-method ${method} does not use calibration`);
  // An explicit calibrated method samples its own text if none is given; the default decides by cost.
  const calibration: CalibrationSource = calibrated ? (o.calibration ?? (o.method ? 'self' : 'auto')) : null;
  const int4 = (sym: boolean, m: QuantMethod): QuantScheme => ({ bits: 4, groupSize: g, symmetric: sym, scaleDtype, method: m });
  const int8: QuantScheme = { bits: 8, groupSize: 0, symmetric: true, scaleDtype, method: 'rtn' };
  let linear: QuantScheme | null;
  switch (o.quant) {
    case 'f32':
    case 'f16':
      linear = null;
      break;
    case 'int8':
      linear = int8;
      break;
    case 'int4':
      linear = int4(o.symmetric ?? false, method);
      break;
    case 'q4_0':
      if (o.groupSize !== undefined && o.groupSize !== 32) throw new LlamacError(`--group-size: q4_0 has blocks of 32`);
      linear = { bits: 4, groupSize: 32, symmetric: true, scaleDtype: 'f16', method: 'q4_0' };
      break;
  }
  const e = o.quantEmbeddings ?? 'none';
  if (e !== 'none' && e !== 'int8' && e !== 'int4') throw new LlamacError(`--quant-embeddings: '${e}' is not none, int8 or int4`);
  // Embeddings are a gather (no activations to calibrate on): search, never GPTQ.
  const embeddings = e === 'none' ? null : e === 'int8' ? int8 : int4(o.symmetric ?? false, method === 'rtn' ? 'rtn' : 'search');
  if (o.method && o.quant !== 'int4') throw new LlamacError(`--quant-method: only int4 has a choice of rounding (${o.quant} has one rule)`);
  const usesCalibration = linear !== null && linear.bits === 4 && (linear.method === 'gptq' || linear.method === 'awq');
  return { name: o.quant, linear, embeddings, calibration: usesCalibration ? calibration : null };
}
