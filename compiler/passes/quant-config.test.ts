// The one table from CLI quantization options to schemes.

import { describe, expect, it } from 'vitest';
import { makeQuantConfig } from './quant-config.js';

describe('makeQuantConfig', () => {
  it('defaults: int4 = asymmetric g32 f16 AWQ+GPTQ with automatic self-calibration; embeddings dense', () => {
    const c = makeQuantConfig({ quant: 'int4' });
    expect(c.linear).toEqual({ bits: 4, groupSize: 32, symmetric: false, scaleDtype: 'f16', method: 'awq' });
    expect(c.embeddings).toBeNull();
    expect(c.calibration).toBe('auto');
  });

  it('int8 per channel, q4_0 fixed, f32/f16 unquantized', () => {
    expect(makeQuantConfig({ quant: 'int8' }).linear).toMatchObject({ bits: 8, symmetric: true });
    expect(makeQuantConfig({ quant: 'int8' }).calibration).toBeNull();
    expect(makeQuantConfig({ quant: 'q4_0' }).linear).toEqual({ bits: 4, groupSize: 32, symmetric: true, scaleDtype: 'f16', method: 'q4_0' });
    expect(makeQuantConfig({ quant: 'f16' }).linear).toBeNull();
  });

  it('overrides and embeddings', () => {
    const c = makeQuantConfig({ quant: 'int4', groupSize: 128, symmetric: true, scaleDtype: 'f32', method: 'search', quantEmbeddings: 'int8' });
    expect(c.linear).toEqual({ bits: 4, groupSize: 128, symmetric: true, scaleDtype: 'f32', method: 'search' });
    expect(c.embeddings).toMatchObject({ bits: 8 });
    expect(c.calibration).toBeNull();
    expect(makeQuantConfig({ quant: 'int4', method: 'gptq' }).calibration).toBe('self');
  });

  it('rejects what does not exist, with the option named', () => {
    expect(() => makeQuantConfig({ quant: 'int3' })).toThrow(/--quant: unknown 'int3'/);
    expect(() => makeQuantConfig({ quant: 'int4', groupSize: 48 })).toThrow(/--group-size: 48/);
    expect(() => makeQuantConfig({ quant: 'q4_0', groupSize: 64 })).toThrow(/--group-size: q4_0/);
    expect(() => makeQuantConfig({ quant: 'int8', method: 'gptq' })).toThrow(/--quant-method/);
    expect(() => makeQuantConfig({ quant: 'int4', method: 'search', calibration: 'self' })).toThrow(/--calibration/);
    expect(() => makeQuantConfig({ quant: 'int4', quantEmbeddings: 'int2' })).toThrow(/--quant-embeddings/);
  });
});
