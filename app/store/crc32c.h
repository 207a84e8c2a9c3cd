// CRC-32C (Castagnoli), the checksum of the store's snapshot chunks: the SSE 4.2
// instruction where the CPU has it (several GB/s, so checking a multi-gigabyte
// snapshot costs little next to reading it), a table otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace folio {

// Continues from `crc` (0 to start): crc32c(b, n2, crc32c(a, n1)) == crc32c(a+b, n1+n2).
// crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, std::size_t bytes, uint32_t crc = 0);
// The table version, for tests that compare the two.
uint32_t crc32cPortable(const void* data, std::size_t bytes, uint32_t crc = 0);

} // namespace folio
