// Saving and restoring a Session (Session::saveState / loadState): its tokens and
// their positions, the logits of the last token, the filled slots of the KV cache of
// every layer, and the options that shaped them (Session::shapingOptions: model
// fingerprint, architecture, KV type, the resolved RoPE and Dual Chunk Attention
// parameters), so that a restored session continues exactly where the saved one was:
// the next logits are the same bits.
//
// Format (version 2, little-endian). A 20-byte header piece: magic "FOLIOSES", u32
// format version, u32 piece limit, CRC-32 of those 16 bytes. Then frames, each one
// StateWriter piece: u32 payload length, CRC-32 of the payload, the payload. The
// payloads, concatenated, hold: the shaping options (u32 count, then key and value as
// u32 length + UTF-8); the cache geometry (layers, KV heads, head dim, row bytes) and
// the saved session's context length; u32 prefix length b and the u64 FNV-1a digest of
// the prefix's token ids (b = 0: a whole state; version 1 streams lack both fields);
// u32 token count n; tokens b..n-1 (i32); their positions (i32); u32 logits count (0 or
// the vocabulary) and the logits (f32); for each layer, for each KV head, the key rows
// b..n-1 then the value rows b..n-1, raw bytes of the KV type; a trailer "END." with
// the u64 count of payload bytes before it.
//
// A delta state (b > 0) holds only what follows a prefix, e.g. a conversation's turns
// after the document they are about: it loads only into a session that holds those b
// tokens already (same digest), and appends to them.
//
// Loading checks the header, then every frame's length (before allocating) and CRC,
// then that the options equal the session's (SessionStateError naming each field that
// differs: "KV type: saved q8_0, session f16") and that the tokens fit its context.
// A refusal up to that point leaves the session unchanged. A stream that turns out
// truncated or corrupt later, inside the cache bytes, leaves the session empty
// (position() == 0; a delta: at its prefix), never half-restored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace folio {

class SessionStateError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Version 2 added the prefix fields (delta states); version 1 streams still load.
inline constexpr uint32_t kSessionStateVersion = 2;
// Default upper bound of one StateWriter piece (frame header included): the app
// stores each piece as one SQLite row. saveState takes another bound (64 B to 64 MiB);
// the header records it, and the reader takes it from there.
inline constexpr std::size_t kStatePieceBytes = std::size_t{4} << 20;

// Receives the state in order, one piece (at most kStatePieceBytes) per call.
class StateWriter {
public:
    virtual ~StateWriter() = default;
    virtual void write(const void* data, std::size_t bytes) = 0;
};

// Gives the bytes back in order. read() may return fewer bytes than asked; it returns
// 0 only at the end. Piece boundaries need not be kept.
class StateReader {
public:
    virtual ~StateReader() = default;
    virtual std::size_t read(void* data, std::size_t bytes) = 0;
};

// Adapters: standard streams, files, and memory (a list of pieces, as the app's rows).
class OstreamStateWriter : public StateWriter {
public:
    explicit OstreamStateWriter(std::ostream& out) : out_(out) {}
    void write(const void* data, std::size_t bytes) override;

private:
    std::ostream& out_;
};

class IstreamStateReader : public StateReader {
public:
    explicit IstreamStateReader(std::istream& in) : in_(in) {}
    std::size_t read(void* data, std::size_t bytes) override;

private:
    std::istream& in_;
};

class FileStateWriter : public StateWriter {
public:
    explicit FileStateWriter(const std::string& path);  // truncates; throws SessionStateError
    void write(const void* data, std::size_t bytes) override;
    void close();  // flushes; throws SessionStateError if any write failed

private:
    std::string path_;
    std::ofstream file_;
};

class FileStateReader : public StateReader {
public:
    explicit FileStateReader(const std::string& path);  // throws SessionStateError
    std::size_t read(void* data, std::size_t bytes) override;

private:
    std::string path_;
    std::ifstream file_;
};

class MemoryStateWriter : public StateWriter {
public:
    void write(const void* data, std::size_t bytes) override;
    const std::vector<std::vector<uint8_t>>& pieces() const { return pieces_; }
    std::vector<uint8_t> joined() const;

private:
    std::vector<std::vector<uint8_t>> pieces_;
};

class MemoryStateReader : public StateReader {
public:
    explicit MemoryStateReader(std::vector<std::vector<uint8_t>> pieces) : pieces_(std::move(pieces)) {}
    explicit MemoryStateReader(std::vector<uint8_t> bytes) { pieces_.push_back(std::move(bytes)); }
    std::size_t read(void* data, std::size_t bytes) override;

private:
    std::vector<std::vector<uint8_t>> pieces_;
    std::size_t piece_ = 0, offset_ = 0;
};

} // namespace folio
