// Which x86 SIMD extensions the CPU and the OS support, detected once, and the
// dispatch level the kernels use. FOLIO_CPU=scalar|avx2|avx512 caps the level
// (for tests and benchmarks); it can never raise it above what the CPU has.
#pragma once

namespace folio {

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool amx = false;  // AMX tile + int8 + bf16, with the OS allowing tile state
};

const CpuFeatures& cpuFeatures();

// Kernel families. Avx2 needs AVX2+FMA+F16C; Avx512 needs F/BW/VL/VNNI (and DQ).
enum class SimdLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

SimdLevel maxSupportedSimdLevel();                  // what the CPU can run
SimdLevel activeSimdLevel();                        // min(supported, FOLIO_CPU cap), read once
SimdLevel clampSimdLevel(SimdLevel wanted);         // min(wanted, supported)
const char* simdLevelName(SimdLevel level);         // "scalar", "avx2", "avx512"

} // namespace folio
