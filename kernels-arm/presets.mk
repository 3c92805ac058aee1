# CPU presets: PRESET=<name> picks the -march/-mtune for the common files (scalar twins, ops,
# packers, dispatch). The path files always keep their own minimal -march (neon: armv8-a,
# dotprod: armv8.2-a+dotprod, i8mm: armv8.6-a+i8mm) so one binary can dispatch at run time.
# Every flag here is accepted by aarch64-linux-gnu-gcc 12 (Debian 12); where gcc 12 lacks the
# core (Cortex-X3/X4/A715/A720, Oryon) or armv9.2-a, the nearest accepted flags are used.
# Armv9 presets add +nosve: the kernels do not use SVE, and auto-vectorised SVE in the common
# files would trap on phones whose kernel does not expose SVE (dispatch trusts HWCAP only).
ARCH_generic            := -march=armv8-a
TUNE_generic            :=
ARCH_dotprod            := -march=armv8.2-a+dotprod+fp16
TUNE_dotprod            := -mtune=cortex-a76
ARCH_i8mm               := -march=armv8.6-a+i8mm+dotprod+fp16
TUNE_i8mm               := -mtune=cortex-x2
ARCH_snapdragon-8-gen-1 := -march=armv9-a+i8mm+bf16+nosve
TUNE_snapdragon-8-gen-1 := -mtune=cortex-x2
ARCH_snapdragon-8-gen-2 := -march=armv9-a+i8mm+bf16+nosve
TUNE_snapdragon-8-gen-2 := -mtune=cortex-x2
ARCH_snapdragon-8-gen-3 := -march=armv9-a+i8mm+bf16+nosve
TUNE_snapdragon-8-gen-3 := -mtune=cortex-x2
ARCH_snapdragon-8-elite := -march=armv8.7-a+i8mm+bf16+dotprod+fp16
TUNE_snapdragon-8-elite := -mtune=neoverse-v1
ARCH_dimensity-9000     := -march=armv9-a+i8mm+bf16+nosve
TUNE_dimensity-9000     := -mtune=cortex-x2
ARCH_dimensity-9200     := -march=armv9-a+i8mm+bf16+nosve
TUNE_dimensity-9200     := -mtune=cortex-x2
ARCH_dimensity-9300     := -march=armv9-a+i8mm+bf16+nosve
TUNE_dimensity-9300     := -mtune=cortex-x2
PRESETS := generic dotprod i8mm snapdragon-8-gen-1 snapdragon-8-gen-2 snapdragon-8-gen-3 \
           snapdragon-8-elite dimensity-9000 dimensity-9200 dimensity-9300
