// The include step: pieces spliced once, nested, with clear errors; and the variant pairs really
// are composed (each variant file holds only what differs, no second copy of a shared piece).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeWgsl, WgslIncludeError } from './compose.js';
import { repoRoot, wgslSource } from './gpu.js';

const pieces: Record<string, string> = {
  'a.wgsl': 'fn a() {}\n// #include b.wgsl\n',
  'b.wgsl': 'fn b() {}\n',
  'loop.wgsl': '// #include loop2.wgsl\n',
  'loop2.wgsl': '// #include loop.wgsl\n',
};
const read = (name: string): string => {
  const p = pieces[name];
  if (p === undefined) throw new Error('ENOENT');
  return p;
};

describe('composeWgsl', () => {
  it('splices pieces in place, nested, each at most once', () => {
    const out = composeWgsl('k.wgsl', 'head\n// #include a.wgsl\n  // #include b.wgsl\ntail', read);
    expect(out).toBe('head\nfn a() {}\nfn b() {}\n// (b.wgsl already included)\ntail');
  });
  it('leaves other comments and a file without includes unchanged', () => {
    const src = '// #includes are lines of their own\nlet x = 1; // #include a.wgsl\n';
    expect(composeWgsl('k.wgsl', src, read)).toBe(src);
  });
  it('names the file, line and piece of a missing include', () => {
    expect(() => composeWgsl('k.wgsl', 'x\n// #include nope.wgsl', read)).toThrow(new WgslIncludeError('k.wgsl:2: included piece nope.wgsl not found'));
  });
  it('rejects a cycle', () => {
    expect(() => composeWgsl('k.wgsl', '// #include loop.wgsl', read)).toThrow(/include cycle loop.wgsl -> loop2.wgsl -> loop.wgsl/);
  });
});

describe('the kernel files are composed from shared pieces', () => {
  const dir = join(repoRoot(), 'kernels-wgsl', 'wgsl');
  const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));
  const partFiles = readdirSync(join(dir, 'parts'));
  it('every piece is used and no kernel keeps an unexpanded include', () => {
    const used = new Set<string>();
    for (const f of [...files, ...partFiles.map((p) => join('parts', p))]) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\/\/ #include ([\w.-]+)/g)) used.add(m[1]);
    }
    expect([...used].sort()).toEqual([...partFiles].sort());
    for (const f of files) expect(wgslSource(f)).not.toMatch(/\/\/ #include /);
  });
  // a variant pair shares its piece: no run of RUN consecutive code lines appears in both files
  const RUN = 6;
  const runs = (text: string): Set<string> => {
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('//'));
    return new Set(lines.slice(0, Math.max(0, lines.length - RUN + 1)).map((_, i) => lines.slice(i, i + RUN).join('\n')));
  };
  for (const [a, b, piece] of [
    ['gemv.wgsl', 'gemv_sg.wgsl', 'gemv.wgsl'],
    ['gemv_f16.wgsl', 'gemv_sg_f16.wgsl', 'gemv-f16.wgsl'],
    ['gemm.wgsl', 'gemm_f16.wgsl', 'gemm.wgsl'],
    ['gemv_q8.wgsl', 'gemv_q8_sg.wgsl', 'gemv-q8.wgsl'],
  ]) {
    it(`${a} and ${b} include ${piece} and hold only their differences`, () => {
      const code = readFileSync(join(dir, 'parts', piece), 'utf8').split('\n').slice(3, 13).join('\n');
      const own = [a, b].map((f) => readFileSync(join(dir, f), 'utf8'));
      for (const [i, f] of [a, b].entries()) {
        expect(own[i]).toContain(`// #include ${piece}`);
        expect(wgslSource(f)).toContain(code);
      }
      const second = runs(own[1]);
      expect([...runs(own[0])].filter((r) => second.has(r))).toEqual([]);
    });
  }
});
