// AVX2 + FMA + F16C float GEMM tile (see float_gemm_x86.inc).
#define FOLIO_FLOAT_GEMM_WIDTH 8
#define FOLIO_FLOAT_GEMM_NAME floatGemmAvx2
#include "engine/kernels/float_gemm_x86.inc"
