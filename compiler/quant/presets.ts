// Named quantization presets: data, not code paths. A preset says what each class of weight
// becomes; the caller (IR pass / `llamac eval`) maps it onto quantizeInt8/Int4/Q4_0/Gptq or the pool.

import type { ScaleDtype } from '../ir/quantized.js';

export type Calibration = 'none' | 'gptq' | 'awq';

export type WeightScheme =
  | { readonly kind: 'f32' }
  | { readonly kind: 'int8'; readonly scaleDtype: ScaleDtype }
  | {
      readonly kind: 'int4';
      readonly groupSize: number;
      readonly symmetric: boolean;
      readonly scaleDtype: ScaleDtype;
      readonly method: 'rtn' | 'search';
      /** Used only when calibration ids are given; without them the method above runs alone. */
      readonly calibration: Calibration;
    }
  | { readonly kind: 'q4_0' };

export interface QuantPreset {
  readonly name: string;
  readonly description: string;
  /** Every linear layer of the decoder blocks (q, k, v, o, gate, up, down). */
  readonly linear: WeightScheme;
  /** The token embedding table (a gather: never calibrated). */
  readonly embeddings: WeightScheme;
  /** The output projection (when untied; tied models quantize the embedding once, as `embeddings`). */
  readonly lmHead: WeightScheme;
}

const INT8: WeightScheme = { kind: 'int8', scaleDtype: 'f16' };
const int4 = (method: 'rtn' | 'search', symmetric: boolean, calibration: Calibration): WeightScheme => ({
  kind: 'int4',
  groupSize: 32,
  symmetric,
  scaleDtype: 'f16',
  method,
  calibration,
});

// Default int4 is asymmetric: on stories260K's weights, asymmetric search had 8% lower MSE than
// symmetric search (6.0e-3 vs 6.5e-3 relative), for 4 more bits per group of 32.
export const PRESETS = {
  int8: { name: 'int8', description: 'int8 per output channel, symmetric, f16 scales', linear: INT8, embeddings: INT8, lmHead: INT8 },
  int4: {
    name: 'int4',
    description: 'int4 g32 asymmetric, f16 scales, error-minimizing scale/zero search; GPTQ when calibration ids are given',
    linear: int4('search', false, 'gptq'),
    embeddings: int4('search', false, 'none'),
    lmHead: int4('search', false, 'gptq'),
  },
  'int4-awq': {
    name: 'int4-awq',
    description: 'int4 g32 asymmetric, f16 scales, search, AWQ activation-aware scaling when calibration ids are given',
    linear: int4('search', false, 'awq'),
    embeddings: int4('search', false, 'none'),
    lmHead: int4('search', false, 'none'),
  },
  'int4-sym': {
    name: 'int4-sym',
    description: 'int4 g32 symmetric, f16 scales, search; GPTQ when calibration ids are given',
    linear: int4('search', true, 'gptq'),
    embeddings: int4('search', true, 'none'),
    lmHead: int4('search', true, 'gptq'),
  },
  'int4-rtn': {
    name: 'int4-rtn',
    description: 'int4 g32 asymmetric, f16 scales, plain round-to-nearest (the baseline the search must beat)',
    linear: int4('rtn', false, 'none'),
    embeddings: int4('rtn', false, 'none'),
    lmHead: int4('rtn', false, 'none'),
  },
  q4_0: {
    name: 'q4_0',
    description: "llama.cpp Q4_0 on every matrix (blocks of 32, d = signed max / -8, f16 d): the comparison baseline",
    linear: { kind: 'q4_0' },
    embeddings: { kind: 'q4_0' },
    lmHead: { kind: 'q4_0' },
  },
} as const satisfies Record<string, QuantPreset>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export interface PresetOverrides {
  /** Replaces the int4 group size everywhere (32, 64, 128). Rejected for q4_0, whose blocks are 32. */
  readonly groupSize?: number;
  readonly embeddings?: WeightScheme;
  readonly lmHead?: WeightScheme;
}

export function isPresetName(name: string): name is PresetName {
  return Object.prototype.hasOwnProperty.call(PRESETS, name);
}

/** Looks a preset up by name and applies overrides. */
export function resolvePreset(name: string, over: PresetOverrides = {}): QuantPreset {
  if (!isPresetName(name)) throw new Error(`unknown quantization preset '${name}' (known: ${PRESET_NAMES.join(', ')})`);
  const base: QuantPreset = PRESETS[name];
  const g = over.groupSize;
  if (g !== undefined && (!Number.isInteger(g) || g < 2 || g % 2 !== 0)) throw new Error(`group size must be an even integer, got ${g}`);
  const regroup = (s: WeightScheme): WeightScheme => {
    if (g === undefined) return s;
    if (s.kind === 'q4_0') throw new Error('q4_0 has a fixed block size of 32; use an int4 preset to change the group size');
    return s.kind === 'int4' ? { ...s, groupSize: g } : s;
  };
  return {
    name: base.name,
    description: base.description,
    linear: regroup(base.linear),
    embeddings: over.embeddings ?? regroup(base.embeddings),
    lmHead: over.lmHead ?? regroup(base.lmHead),
  };
}
