// AVX-512 float GEMM tile (see float_gemm_x86.inc).
#define FOLIO_FLOAT_GEMM_WIDTH 16
#define FOLIO_FLOAT_GEMM_NAME floatGemmAvx512
#include "engine/kernels/float_gemm_x86.inc"
