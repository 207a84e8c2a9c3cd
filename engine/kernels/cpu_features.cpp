#include "engine/kernels/cpu_features.h"

#include <cpuid.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace folio {
namespace {

struct CpuidRegs { unsigned eax = 0, ebx = 0, ecx = 0, edx = 0; };

CpuidRegs cpuid(unsigned leaf, unsigned subleaf)
{
    CpuidRegs r;
    __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
    return r;
}

// XCR0 says which register state the OS saves on context switches; a CPU feature
// is usable only if its state is enabled there too.
uint64_t readXcr0()
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool bit(unsigned value, int index) { return (value >> index) & 1u; }

CpuFeatures detect()
{
    CpuFeatures f;
    const unsigned maxLeaf = __get_cpuid_max(0, nullptr);
    if (maxLeaf < 7)
        return f;
    const CpuidRegs l1 = cpuid(1, 0);
    const bool osxsave = bit(l1.ecx, 27);
    if (!osxsave)
        return f;
    const uint64_t xcr0 = readXcr0();
    const bool ymmState = (xcr0 & 0x6) == 0x6;             // SSE + AVX
    const bool zmmState = ymmState && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM hi256 + hi16
    const bool tileState = (xcr0 & 0x60000) == 0x60000;    // XTILECFG + XTILEDATA

    const CpuidRegs l7 = cpuid(7, 0);
    const CpuidRegs l7s1 = cpuid(7, 1);
    f.fma = ymmState && bit(l1.ecx, 12);
    f.f16c = ymmState && bit(l1.ecx, 29);
    f.avx2 = ymmState && bit(l1.ecx, 28) && bit(l7.ebx, 5);
    f.avx512f = zmmState && bit(l7.ebx, 16);
    f.avx512bw = f.avx512f && bit(l7.ebx, 30);
    f.avx512vl = f.avx512f && bit(l7.ebx, 31);
    f.avx512vnni = f.avx512f && bit(l7.ecx, 11);
    f.avx512bf16 = f.avx512f && bit(l7s1.eax, 5);
    // Linux also wants an arch_prctl(ARCH_REQ_XCOMP_PERM) before tiles are used; that
    // belongs to whoever adds AMX kernels.
    f.amx = tileState && bit(l7.edx, 24) && bit(l7.edx, 25) && bit(l7.edx, 22);
    return f;
}

bool hasAvx512Dq()
{
    return bit(cpuid(7, 0).ebx, 17);
}

SimdLevel detectMaxLevel()
{
    const CpuFeatures& f = cpuFeatures();
    if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni && hasAvx512Dq() && f.avx2 && f.fma && f.f16c)
        return SimdLevel::Avx512;
    if (f.avx2 && f.fma && f.f16c)
        return SimdLevel::Avx2;
    return SimdLevel::Scalar;
}

SimdLevel detectActiveLevel()
{
    SimdLevel cap = SimdLevel::Avx512;
    if (const char* env = std::getenv("FOLIO_CPU")) {
        if (std::strcmp(env, "scalar") == 0)
            cap = SimdLevel::Scalar;
        else if (std::strcmp(env, "avx2") == 0)
            cap = SimdLevel::Avx2;
    }
    return clampSimdLevel(cap);
}

} // namespace

const CpuFeatures& cpuFeatures()
{
    static const CpuFeatures features = detect();
    return features;
}

SimdLevel maxSupportedSimdLevel()
{
    static const SimdLevel level = detectMaxLevel();
    return level;
}

SimdLevel activeSimdLevel()
{
    static const SimdLevel level = detectActiveLevel();
    return level;
}

SimdLevel clampSimdLevel(SimdLevel wanted)
{
    const SimdLevel max = maxSupportedSimdLevel();
    return static_cast<int>(wanted) < static_cast<int>(max) ? wanted : max;
}

const char* simdLevelName(SimdLevel level)
{
    switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::Avx2: return "avx2";
    case SimdLevel::Avx512: return "avx512";
    }
    return "?";
}

} // namespace folio
