// AVX-512 (VNNI for int8, 512-bit FMA for float rows) dot kernels (see dot_x86.inc).
#define FOLIO_DOT_TABLE_NAME avx512DotKernels
#include "engine/kernels/dot_x86.inc"
