// AVX-512 attention tile, 16 floats a vector (see attention_x86.inc).
#define FOLIO_ATTENTION_WIDTH 16
#define FOLIO_ATTENTION_TABLE_NAME avx512AttentionKernels
#include "engine/kernels/attention_x86.inc"
