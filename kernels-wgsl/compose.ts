// Composes a kernel's WGSL from its file and the shared pieces in wgsl/parts/: a line
// `// #include NAME.wgsl` is replaced by that piece (pieces may include pieces; each piece is
// spliced at most once per kernel, so a piece included twice is not defined twice). This is the
// whole "preprocessor": variants such as gemv.wgsl / gemv_sg.wgsl hold only what differs, and the
// WGSL every device compiles is the composed text (the WebGPU target writes it into artifacts).
// Platform-neutral: the caller supplies the file reader (node:fs here, fetch never needed).

const INCLUDE = /^[ \t]*\/\/ #include ([\w.-]+\.wgsl)[ \t]*$/;

/** Reads a piece by name (a file of wgsl/parts/); throws when it does not exist. */
export type PieceReader = (name: string) => string;

export class WgslIncludeError extends Error {}

/** The WGSL of `source` (named `file` in errors) with every include spliced in. */
export function composeWgsl(file: string, source: string, readPiece: PieceReader): string {
  const done = new Set<string>();
  const expand = (name: string, src: string, stack: readonly string[]): string =>
    src
      .split('\n')
      .map((line, i) => {
        const m = INCLUDE.exec(line);
        if (!m) return line;
        const piece = m[1];
        if (stack.includes(piece)) throw new WgslIncludeError(`${name}:${i + 1}: include cycle ${[...stack, piece].join(' -> ')}`);
        if (done.has(piece)) return `// (${piece} already included)`;
        done.add(piece);
        let text: string;
        try {
          text = readPiece(piece);
        } catch {
          throw new WgslIncludeError(`${name}:${i + 1}: included piece ${piece} not found`);
        }
        return expand(piece, text.replace(/\n$/, ''), [...stack, piece]);
      })
      .join('\n');
  return expand(file, source, []);
}
