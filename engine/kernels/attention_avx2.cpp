// AVX2 + FMA + F16C attention tile, 8 floats a vector (see attention_x86.inc).
#define FOLIO_ATTENTION_WIDTH 8
#define FOLIO_ATTENTION_TABLE_NAME avx2AttentionKernels
#include "engine/kernels/attention_x86.inc"
