// The llamac command line: parses options and calls the compiler API (compiler/commands.ts).

import { Command, InvalidArgumentError, Option } from 'commander';
import { compileCommand, evalCommand, inspectCommand, synthCommand, verifyCommand, type BuildCliOptions, type Print } from '../compiler/commands.js';
import { buildCommand } from '../compiler/build/command.js';
import { LlamacError } from '../compiler/errors.js';
import { escapeControls } from '../compiler/messages.js';
import { serveDir } from '../compiler/serve.js';
import { allTargetOptions, lookupTarget, TARGET_NAMES } from '../compiler/targets/index.js';
import { describeAccepted, type GivenOptions } from '../compiler/targets/options.js';
import { LLAMAC_VERSION } from '../compiler/version.js';

export interface Io {
  readonly out: Print;
  readonly err: Print;
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a positive integer, got '${v}'`);
    return n;
  };
}

interface RawBuildOpts {
  /** The declared target options (--onnx-ops ...) arrive under their optionKey. */
  [targetOption: string]: unknown;
  target: string;
  quant: string;
  groupSize?: number;
  sym?: boolean;
  asym?: boolean;
  scaleDtype?: string;
  quantMethod?: string;
  quantEmbeddings?: string;
  calibration?: string;
  fuse: boolean;
  dumpIrAfter?: string;
  revision?: string;
  json?: boolean;
  verbose?: boolean;
}

/** The --target value in argv, if any: --help then lists that target's options only. */
function targetInArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--target') return argv[i + 1];
    if (argv[i].startsWith('--target=')) return argv[i].slice('--target='.length);
  }
  return undefined;
}

/** Each target's declared options as flags, grouped by target in --help. */
function addTargetOptions(cmd: Command, helpTarget: string | undefined): Command {
  for (const { target, spec } of allTargetOptions()) {
    const opt = new Option(`--${spec.flag} <value>`, `${spec.help} [${describeAccepted(spec)}; default ${spec.default}]`).helpGroup(`Options of --target ${target.name}:`);
    if (helpTarget !== undefined && helpTarget !== target.name) opt.hideHelp();
    cmd.addOption(opt);
  }
  return cmd;
}

/** The given target-option flags for --target, in the target's spec order; a flag of another target is an error. */
function targetOptionsOf(o: Readonly<Record<string, unknown>>, targetName: string): GivenOptions {
  const target = lookupTarget(targetName);
  const given: Record<string, string> = {};
  for (const { target: owner, key, spec } of allTargetOptions()) {
    const v = o[key];
    if (typeof v !== 'string') continue;
    if (owner !== target) throw new LlamacError(`--${spec.flag}: an option of --target ${owner.name}, not of --target ${target.name}`);
    given[key] = v;
  }
  target.checkOptions(given);
  return given;
}

function addBuildOptions(cmd: Command, defaultTarget: string, helpTarget: string | undefined): Command {
  cmd
    .option('--target <name>', `target: ${TARGET_NAMES.join(', ')}`, defaultTarget)
    .option('--quant <name>', 'f32 | f16 | int8 | int4 | q4_0', 'f32')
    .option('--group-size <n>', 'int4 group length along K: 32, 64, 128', positiveInt('--group-size'))
    .addOption(new Option('--sym', 'symmetric int4 (zero point 8)').conflicts('asym'))
    .option('--asym', 'asymmetric int4 with a zero point per group (the default)')
    .option('--scale-dtype <dtype>', 'f16 | f32 scales')
    .option('--quant-method <m>', 'int4 rounding: rtn | search | gptq | awq (AWQ scaling + GPTQ; the default when calibration text is available)')
    .option('--quant-embeddings <q>', 'none | int8 | int4 for the embedding table (and a tied lm_head)')
    .option('--calibration <ids.json|self|auto>', "int4 calibration token ids ({\"stories\": [[...]]}), 'self' to sample them from the model, 'auto' (default) to sample when cheap; never the evaluation set")
    .option('--no-fuse', 'skip the fusion passes (quantization still runs)')
    .option('--dump-ir-after <pass>', "print the IR after a pass ('all' for every pass)")
    .option('--revision <rev>', 'Hub revision for Hub ids', 'main')
    .option('--json', 'print one JSON object')
    .option('--verbose', 'progress and per-pass timing on stderr');
  return addTargetOptions(cmd, helpTarget);
}

function toBuild(o: RawBuildOpts): BuildCliOptions {
  // Target options are checked here, before any file is read.
  const targetOptions = targetOptionsOf(o, o.target);
  return {
    target: o.target,
    quant: o.quant,
    groupSize: o.groupSize,
    symmetric: o.sym ? true : o.asym ? false : undefined,
    scaleDtype: o.scaleDtype,
    method: o.quantMethod,
    quantEmbeddings: o.quantEmbeddings,
    calibrationFile: o.calibration,
    fuse: o.fuse,
    targetOptions,
    dumpIrAfter: o.dumpIrAfter,
    revision: o.revision,
    json: o.json,
    verbose: o.verbose,
  };
}

/** Commander's own messages ('error: unknown option ...' plus a suggestion line) as one llamac line. */
export function commanderErrorLine(s: string): string {
  const text = s.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  return `llamac: error: ${escapeControls(text)}`;
}

/**
 * The one line printed for a failure: user errors (LlamacError, and system errors such as ENOSPC
 * that name their own path) as `llamac: error:`, anything else as a bug.
 */
export function errorLine(e: unknown): string {
  const sys = e as NodeJS.ErrnoException;
  const user = e instanceof LlamacError || (e instanceof Error && typeof sys.code === 'string' && typeof sys.syscall === 'string');
  const message = e instanceof Error ? e.message : String(e);
  return `llamac: ${user ? 'error' : 'internal error'}: ${escapeControls(message)}`;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let code = 0;
  const program = new Command('llamac')
    .description('Llama 3.2 conversion and quantization compiler (ONNX, WebGPU, ARM NEON), verified against transformers')
    .version(LLAMAC_VERSION)
    .option('--debug', 'show stack traces')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // commander's parse errors ("error: unknown option '--x'") get the one-line llamac form.
      outputError: (s) => io.err(commanderErrorLine(s)),
    });
  const helpTarget = targetInArgv(argv);

  program
    .command('inspect <model>')
    .description('config summary, parameter count, bytes by dtype, tensor table (or the IR with --ir)')
    .option('--ir', 'print the imported IR')
    .option('--revision <rev>', 'Hub revision for Hub ids', 'main')
    .option('--json', 'print one JSON object')
    .action(async (model: string, o: { ir?: boolean; revision?: string; json?: boolean }) => {
      await inspectCommand(model, o, io.out);
    });

  addBuildOptions(program.command('verify <model>'), 'reference', helpTarget)
    .description('run the golden cases and the greedy decode on a target and compare with transformers')
    .requiredOption('--golden <dir>', 'folder with golden.json and golden.safetensors')
    .option('--report <file>', 'also write a self-contained HTML report (logit error per case, hidden-state error per layer)')
    .action(async (model: string, o: RawBuildOpts & { golden: string; report?: string }) => {
      const pass = await verifyCommand(model, { ...toBuild(o), golden: o.golden, report: o.report }, io.out, io.err);
      if (!pass) code = 1;
    });

  addBuildOptions(program.command('eval <model>'), 'reference', helpTarget)
    .description('mean negative log-likelihood and perplexity over token-id sequences')
    .requiredOption('--ids <file.json>', '{"stories": [[ids...], ...]}')
    .option('--max-len <n>', 'truncate each sequence (default: max_position_embeddings)', positiveInt('--max-len'))
    .action(async (model: string, o: RawBuildOpts & { ids: string; maxLen?: number }) => {
      await evalCommand(model, { ...toBuild(o), ids: o.ids, maxLen: o.maxLen }, io.out, io.err);
    });

  addBuildOptions(program.command('compile <model>'), 'onnx', helpTarget)
    .description('run the target pipeline and write the artifact folder')
    .option('--out <dir>', 'artifact folder (written atomically)')
    .option('--print-pipeline', 'list the passes this build would run, and stop')
    .action(async (model: string, o: RawBuildOpts & { out?: string; printPipeline?: boolean }) => {
      await compileCommand(model, { ...toBuild(o), out: o.out, printPipeline: o.printPipeline }, io.out, io.err);
    });

  program
    .command('build <build-file>')
    .description('run a build file (JSON or YAML): models x targets x quant configs, each compiled, verified and packed into a reproducible archive')
    .option('--out <dir>', "package folder (overrides the build file's 'out')")
    .option('--jobs <n>', 'cells in parallel (cells of checkpoints over 512 MiB run one at a time)', positiveInt('--jobs'), 1)
    .option('--cache-dir <dir>', 'content cache (default: $XDG_CACHE_HOME/llamac/build or ~/.cache/llamac/build)')
    .option('--no-cache', 'build every cell even when the cache has it')
    .option('--json', 'print the summary as JSON')
    .option('--junit <file>', 'write a JUnit XML file (one test case per cell)')
    .option('--report <file>', 'write a self-contained HTML report')
    .option('--verbose', 'progress on stderr')
    .action(async (file: string, o: { out?: string; jobs?: number; cacheDir?: string; cache: boolean; json?: boolean; junit?: string; report?: string; verbose?: boolean }) => {
      const summary = await buildCommand(file, o, io.out, io.err);
      if (!summary.pass) code = 1;
    });

  program
    .command('synth')
    .description('write a deterministic random checkpoint with real Llama 3.2 shapes (bf16, Hub-style shards)')
    .requiredOption('--preset <name>', 'llama-3.2-1b | llama-3.2-3b')
    .requiredOption('--out <dir>', 'checkpoint folder to create')
    .option('--layers <n>', 'fewer layers than the preset', positiveInt('--layers'))
    .action((o: { preset: string; out: string; layers?: number }) => {
      synthCommand(o, io.out);
    });

  program
    .command('serve <dir>')
    .description('serve an artifact folder over http (the webgpu target\'s index.html demo) until interrupted')
    .option('--port <n>', 'port (default 8000; 0 = any free port)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0..65535');
      return n;
    })
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .action(async (dir: string, o: { port?: number; host?: string }) => {
      const s = await serveDir(dir, o.port ?? 8000, o.host ?? '127.0.0.1');
      io.out(`serving ${dir} at ${s.url} (Ctrl-C stops)`);
      await new Promise<void>((done) => process.once('SIGINT', () => void s.close().then(done)));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    const debug = argv.includes('--debug');
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      // Commander already printed its message (help and version exit 0).
      return ce.exitCode ?? 1;
    }
    io.err(errorLine(e));
    if (debug && e instanceof Error && e.stack) io.err(e.stack);
    return 1;
  }
  return code;
}
