#include "engine/gguf/checksum.h"

#include <array>
#include <cstring>

namespace folio {

namespace {

// Slicing-by-8: table k gives the CRC of a byte followed by k zero bytes, so eight
// input bytes fold in with eight lookups instead of eight dependent steps.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

constexpr CrcTables makeCrcTables()
{
    CrcTables t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; ++bit)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (int k = 1; k < 8; ++k)
        for (int i = 0; i < 256; ++i)
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFFu];
    return t;
}

constexpr CrcTables kCrc = makeCrcTables();

uint32_t load32(const uint8_t* p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;  // little-endian host (checked where the formats are defined)
}

} // namespace

uint32_t crc32(const void* data, std::size_t bytes, uint32_t previous)
{
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t crc = ~previous;
    for (; bytes >= 8; bytes -= 8, p += 8) {
        const uint32_t one = load32(p) ^ crc;
        const uint32_t two = load32(p + 4);
        crc = kCrc[7][one & 0xFF] ^ kCrc[6][(one >> 8) & 0xFF] ^ kCrc[5][(one >> 16) & 0xFF] ^ kCrc[4][one >> 24]
              ^ kCrc[3][two & 0xFF] ^ kCrc[2][(two >> 8) & 0xFF] ^ kCrc[1][(two >> 16) & 0xFF] ^ kCrc[0][two >> 24];
    }
    for (; bytes > 0; --bytes, ++p)
        crc = kCrc[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

void Hash64::add(const void* data, std::size_t bytes)
{
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = state_;
    for (std::size_t i = 0; i < bytes; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    state_ = h;
}

void Hash64::addText(std::string_view text)
{
    addInt(static_cast<int64_t>(text.size()));
    add(text.data(), text.size());
}

void Hash64::addInt(int64_t value)
{
    uint8_t bytes[8];
    for (int i = 0; i < 8; ++i)
        bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
    add(bytes, 8);
}

uint64_t Hash64::digest() const
{
    // splitmix64's finalizer: FNV's last bytes otherwise only reach the low bits.
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::string Hash64::hex() const
{
    static const char digits[] = "0123456789abcdef";
    const uint64_t d = digest();
    std::string text(16, '0');
    for (int i = 0; i < 16; ++i)
        text[15 - i] = digits[(d >> (4 * i)) & 0xF];
    return text;
}

} // namespace folio
