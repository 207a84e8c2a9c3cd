// AVX2 + FMA + F16C dot kernels (see dot_x86.inc).
#define FOLIO_DOT_TABLE_NAME avx2DotKernels
#include "engine/kernels/dot_x86.inc"
