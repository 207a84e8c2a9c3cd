// <immintrin.h> for the SIMD kernel files. GCC 12 warns about the deliberately
// undefined vectors inside its own AVX-512 intrinsic headers (-Wuninitialized false
// positives); this silences it for them only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
