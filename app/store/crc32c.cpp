#include "app/store/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace folio {

namespace {

constexpr uint32_t kPolynomial = 0x82f63b78;   // reflected Castagnoli polynomial

// Slicing by 8: table[k][b] is the CRC of byte b followed by k zero bytes.
struct Tables {
    std::array<std::array<uint32_t, 256>, 8> t{};
    Tables()
    {
        for (uint32_t b = 0; b < 256; ++b) {
            uint32_t c = b;
            for (int i = 0; i < 8; ++i)
                c = (c >> 1) ^ ((c & 1) ? kPolynomial : 0);
            t[0][b] = c;
        }
        for (uint32_t b = 0; b < 256; ++b) {
            for (int k = 1; k < 8; ++k)
                t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
        }
    }
};

const Tables& tables()
{
    static const Tables instance;
    return instance;
}

uint32_t updatePortable(uint32_t c, const unsigned char* p, std::size_t n)
{
    const auto& t = tables().t;
    while (n >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);   // little-endian: the first byte is the lowest
        word ^= c;
        c = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^ t[5][(word >> 16) & 0xff] ^ t[4][(word >> 24) & 0xff] ^
            t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^ t[1][(word >> 48) & 0xff] ^ t[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t updateHardware(uint32_t c, const unsigned char* p, std::size_t n)
{
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        c64 = _mm_crc32_u64(c64, word);
        p += 8;
        n -= 8;
    }
    c = uint32_t(c64);
    while (n--)
        c = _mm_crc32_u8(c, *p++);
    return c;
}

bool hasHardwareCrc()
{
    static const bool has = __builtin_cpu_supports("sse4.2");
    return has;
}
#endif

} // namespace

uint32_t crc32cPortable(const void* data, std::size_t bytes, uint32_t crc)
{
    return ~updatePortable(~crc, static_cast<const unsigned char*>(data), bytes);
}

uint32_t crc32c(const void* data, std::size_t bytes, uint32_t crc)
{
#if defined(__x86_64__)
    if (hasHardwareCrc())
        return ~updateHardware(~crc, static_cast<const unsigned char*>(data), bytes);
#endif
    return crc32cPortable(data, bytes, crc);
}

} // namespace folio
