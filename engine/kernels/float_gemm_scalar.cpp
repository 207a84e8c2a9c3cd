#include "engine/kernels/float_gemm.h"

namespace folio::kernels {

void floatTileReference(int rowTile, int tokenTile, const float* w, const float* x, int depth, float* c,
                        bool accumulate)
{
    for (int i = 0; i < rowTile; ++i) {
        for (int j = 0; j < tokenTile; ++j) {
            float sum = 0.0f;
            for (int k = 0; k < depth; ++k)
                sum += w[i * kFloatGemmDepth + k] * x[k * tokenTile + j];
            c[i * tokenTile + j] = accumulate ? c[i * tokenTile + j] + sum : sum;
        }
    }
}

} // namespace folio::kernels
