// Quantization options as the passes see them. Presets are data (compiler/quant/ owns the maths).

import type { QuantScheme } from '../ir/quantized.js';

export type QuantName = 'f32' | 'f16' | 'int8' | 'int4' | 'q4_0';
export type EmbeddingQuant = 'none' | 'int8' | 'int4';

export interface QuantConfig {
  /** Which preset ('f32' = none). f16 is a storage choice of targets; the IR keeps f32 numbers. */
  readonly name: QuantName;
  /** Scheme for the transformer-block linears; null when not quantizing. */
  readonly linear: QuantScheme | null;
  /** Scheme for the embedding table and a tied lm_head; null keeps them dense. */
  readonly embeddings: QuantScheme | null;
  /** Token-id sequences to calibrate on (GPTQ/AWQ); never the evaluation set. */
  readonly calibration: readonly (readonly number[])[] | null;
}

export const NO_QUANT: QuantConfig = { name: 'f32', linear: null, embeddings: null, calibration: null };
