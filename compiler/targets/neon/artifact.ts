// The NEON artifact folder around weights.bin: the C runtime and kernels-arm sources (one generic
// runtime: the model is data), a Makefile (aarch64 Linux), a CMakeLists.txt (Android NDK), a README,
// the checkpoint's tokenizer files and manifest.json (sha256 and size of every file, options,
// version). Everything is a pure function of the inputs, so a rebuild is byte-identical.

import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ModelInfo } from '../../ir/graph.js';
import { sha256File } from '../../hash.js';
import { packageRoot } from '../../package-root.js';
import { LLAMAC_VERSION } from '../../version.js';

export const MANIFEST_FILE = 'manifest.json';

/** The repository root (source tree or dist/ alike): the folder holding kernels-arm/ and this target's runtime/. */
export function repoRoot(): string {
  return packageRoot(['kernels-arm/src', 'compiler/targets/neon/runtime'], 'neon target');
}

const RUNTIME_FILES = ['lc_format.h', 'lc_model.h', 'lc_model.c', 'lc_sha256.h', 'lc_sha256.c', 'llamac_run.c'];
const KERNEL_FILES = ['include/lk.h', 'src/lk_internal.h', 'src/neon_common.h', 'src/dispatch.c', 'src/pack.c', 'src/matmul_scalar.c', 'src/ops_scalar.c', 'src/ops_neon.c', 'src/matmul_neon.c', 'src/matmul_dotprod.c', 'src/matmul_i8mm.c'];
/** Path files keep their own minimal -march so one binary dispatches at run time (kernels-arm/Makefile). */
const PATH_FLAGS: Readonly<Record<string, string>> = {
  'kernels/src/matmul_neon.c': '-march=armv8-a',
  'kernels/src/matmul_dotprod.c': '-march=armv8.2-a+dotprod+fp16',
  'kernels/src/matmul_i8mm.c': '-march=armv8.6-a+i8mm+dotprod+fp16',
};
const CFLAGS = '-std=c99 -D_GNU_SOURCE -O2 -fno-schedule-insns -ffp-contract=off -Wall -Wextra -Wno-unused-function';

export interface Preset {
  readonly name: string;
  readonly arch: string;
  readonly tune: string;
}

/** CPU presets as kernels-arm/presets.mk defines them (the one list; the CLI validates --cpu against it). */
export function readPresets(): Preset[] {
  const text = readFileSync(join(repoRoot(), 'kernels-arm', 'presets.mk'), 'utf8');
  const arch = new Map<string, string>();
  const tune = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(ARCH|TUNE)_([\w-]+)\s*:=\s*(.*)$/.exec(line);
    if (m) (m[1] === 'ARCH' ? arch : tune).set(m[2], m[3].trim());
  }
  return [...arch.keys()].map((name) => ({ name, arch: arch.get(name) ?? '', tune: tune.get(name) ?? '' }));
}

/** The C sources of the artifact, by path inside it. */
export function sourceFiles(): Map<string, string> {
  const root = repoRoot();
  const files = new Map<string, string>();
  for (const f of RUNTIME_FILES) files.set(`runtime/${f}`, join(root, 'compiler', 'targets', 'neon', 'runtime', f));
  for (const f of KERNEL_FILES) files.set(`kernels/${f}`, join(root, 'kernels-arm', f));
  return files;
}

function makefile(p: Preset): string {
  const srcs = [...sourceFiles().keys()].filter((f) => f.endsWith('.c'));
  const rules = srcs
    .map((f) => {
      const o = `build/${f.replace(/\//g, '_').replace(/\.c$/, '.o')}`;
      const flags = PATH_FLAGS[f] ?? '$(ARCH)';
      return `${o}: ${f} $(HDRS)\n\t@mkdir -p build\n\t$(CC) $(CFLAGS) ${flags} -c $< -o $@\n`;
    })
    .join('\n');
  const objs = srcs.map((f) => `build/${f.replace(/\//g, '_').replace(/\.c$/, '.o')}`).join(' ');
  const hdrs = [...sourceFiles().keys()].filter((f) => f.endsWith('.h')).join(' ');
  return `# llamac-run for aarch64 Linux (gcc or clang). Compiled for CPU preset '${p.name}'; the matrix
# kernels keep their own -march and the binary picks the best path at run time (LK_PATH forces one).
#   make                      native on aarch64, else with the aarch64-linux-gnu- cross compiler
#   make CROSS= CC=clang      another compiler; LDFLAGS= for a dynamic binary (default: static)
ifeq ($(shell uname -m),aarch64)
CROSS ?=
else
CROSS ?= aarch64-linux-gnu-
endif
CC := $(CROSS)gcc
ARCH := ${p.arch}
TUNE := ${p.tune}
CFLAGS := ${CFLAGS} -Ikernels/include -Ikernels/src -Iruntime $(TUNE)
LDFLAGS ?= -static
HDRS := ${hdrs}
OBJS := ${objs}

build/llamac-run: $(OBJS)
\t$(CC) $(LDFLAGS) $(OBJS) -lm -o $@

${rules}
clean:
\trm -rf build

.PHONY: clean
`;
}

function cmakeLists(p: Preset): string {
  const srcs = [...sourceFiles().keys()].filter((f) => f.endsWith('.c'));
  const props = Object.entries(PATH_FLAGS)
    .map(([f, flags]) => `set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${flags.split(' ').join(';')}")`)
    .join('\n');
  const common = srcs.filter((f) => !(f in PATH_FLAGS));
  return `# llamac-run with the Android NDK (arm64-v8a) or any aarch64 toolchain:
#   cmake -B build -DCMAKE_TOOLCHAIN_FILE=$ANDROID_NDK_HOME/build/cmake/android.toolchain.cmake \\
#         -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-28 && cmake --build build
# CPU preset '${p.name}'; the matrix kernels keep their own -march (run-time dispatch).
cmake_minimum_required(VERSION 3.10)
project(llamac_run C)
set(CMAKE_C_STANDARD 99)
set(CMAKE_C_STANDARD_REQUIRED ON)
add_executable(llamac-run ${srcs.join(' ')})
target_include_directories(llamac-run PRIVATE kernels/include kernels/src runtime)
target_compile_definitions(llamac-run PRIVATE _GNU_SOURCE)
target_compile_options(llamac-run PRIVATE -O2 -ffp-contract=off ${p.tune})
set_source_files_properties(${common.join(' ')} PROPERTIES COMPILE_OPTIONS "${p.arch.split(' ').join(';')}")
${props}
target_link_libraries(llamac-run m)
`;
}

function readme(info: ModelInfo, p: Preset, options: Readonly<Record<string, string | number | boolean>>): string {
  return `# ${info.name}: llamac NEON artifact

Compiled by llamac ${LLAMAC_VERSION} for CPU preset \`${p.name}\` (\`${p.arch}${p.tune ? ' ' + p.tune : ''}\`); options in
\`manifest.json\`. \`weights.bin\` holds the model program and every weight in kernels-arm's packed
layout; the runtime mmaps it and checks it against \`manifest.json\` before running.

## Build

\`\`\`sh
make                      # build/llamac-run: native on aarch64 Linux, else aarch64-linux-gnu-gcc, static
# Android (arm64-v8a):
cmake -B build-android -DCMAKE_TOOLCHAIN_FILE=$ANDROID_NDK_HOME/build/cmake/android.toolchain.cmake \\
      -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-28
cmake --build build-android
\`\`\`

## Run on a phone

\`\`\`sh
adb shell mkdir -p /data/local/tmp/${info.name}
adb push weights.bin manifest.json /data/local/tmp/${info.name}/
adb push build-android/llamac-run /data/local/tmp/
adb shell /data/local/tmp/llamac-run /data/local/tmp/${info.name} --ids 1,2,3 --greedy 16
\`\`\`

\`llamac-run DIR --ids 1,2,3 [--start P] [--logits last|all] [--greedy N] [--no-verify]\` prints JSON
(logits or greedy token ids); \`--serve\` reads commands on stdin (see runtime/llamac_run.c).
\`--no-verify\` skips the sha256 check of weights.bin (its size is always checked). \`LK_PATH=scalar|neon|dotprod|i8mm\`
forces a kernel path. The KV cache holds ${options['maxSeq']} tokens (${options['kvDtype']}).

Model: ${info.numLayers} layers, hidden ${info.hiddenSize}, heads ${info.numHeads}/${info.numKvHeads}, head_dim ${info.headDim}, vocab ${info.vocabSize}.
`;
}

/** Tokenizer and generation files worth carrying beside the model. */
const COPIED = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|tokenizer\.model|tok\d*\.bin)$/;


function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** Everything except weights.bin and the manifest. */
export function writeSupportFiles(outDir: string, info: ModelInfo, preset: Preset, checkpointDir: string, options: Readonly<Record<string, string | number | boolean>>): void {
  for (const [rel, src] of sourceFiles()) {
    mkdirSync(dirname(join(outDir, rel)), { recursive: true });
    copyFileSync(src, join(outDir, rel));
  }
  writeFileSync(join(outDir, 'Makefile'), makefile(preset));
  writeFileSync(join(outDir, 'CMakeLists.txt'), cmakeLists(preset));
  writeFileSync(join(outDir, 'README.md'), readme(info, preset, options));
  for (const f of readdirSync(checkpointDir).sort())
    if (COPIED.test(f) && statSync(join(checkpointDir, f)).isFile()) copyFileSync(join(checkpointDir, f), join(outDir, f));
}

/** manifest.json: the runtime reads the weights.bin entry ("files" -> "weights.bin" -> sha256, size). */
export function writeManifest(outDir: string, info: ModelInfo, options: Readonly<Record<string, string | number | boolean>>, extra: Readonly<Record<string, unknown>>): void {
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const f of listFiles(outDir)) files[f] = { sha256: sha256File(join(outDir, f)), size: statSync(join(outDir, f)).size };
  const manifest = { format: 'llamac-neon', llamac_version: LLAMAC_VERSION, model: info.name, options, ...extra, files };
  writeFileSync(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}
