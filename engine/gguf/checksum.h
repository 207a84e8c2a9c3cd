// Checksums for integrity, not security: CRC-32 (the IEEE / zlib polynomial, for the
// session-state pieces) and a 64-bit FNV-1a hash (model fingerprints).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace folio {

// CRC-32 of data, continuing from `previous` (0 to start); crc32("123456789") = 0xCBF43926.
uint32_t crc32(const void* data, std::size_t bytes, uint32_t previous = 0);

// 64-bit FNV-1a over everything added, with a final avalanche so that nearby inputs
// give unrelated digests.
class Hash64 {
public:
    void add(const void* data, std::size_t bytes);
    void addText(std::string_view text);  // length-prefixed, so "ab"+"c" differs from "a"+"bc"
    void addInt(int64_t value);
    uint64_t digest() const;
    std::string hex() const;  // 16 lowercase hex digits

private:
    uint64_t state_ = 0xcbf29ce484222325ull;
};

} // namespace folio
