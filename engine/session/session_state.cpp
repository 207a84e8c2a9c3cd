// Session state: the stream format of session_state.h, the I/O adapters, and the
// Session members that save, restore and describe what shaped the cache.
#include "engine/session/session_state.h"

#include "engine/gguf/checksum.h"
#include "engine/session/session.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <istream>
#include <ostream>

namespace folio {

static_assert(std::endian::native == std::endian::little, "the session state is written little-endian");

namespace {

constexpr char kMagic[8] = {'F', 'O', 'L', 'I', 'O', 'S', 'E', 'S'};
constexpr std::size_t kHeaderBytes = 20;
constexpr std::size_t kFrameHeaderBytes = 8;
constexpr char kTrailer[4] = {'E', 'N', 'D', '.'};
// Bounds checked before allocating anything a stream asks for.
constexpr std::size_t kMinPieceLimit = 64, kMaxPieceLimit = std::size_t{64} << 20;
constexpr uint32_t kMaxOptions = 1024;
constexpr uint32_t kMaxOptionText = 64 * 1024;

uint32_t get32(const uint8_t* p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void put32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

// Frames the logical byte stream into pieces of at most pieceBytes (header included).
class FrameWriter {
public:
    FrameWriter(StateWriter& sink, std::size_t pieceBytes) : sink_(sink), pieceBytes_(pieceBytes)
    {
        if (pieceBytes_ < kMinPieceLimit || pieceBytes_ > kMaxPieceLimit)
            throw std::invalid_argument("session state: pieces of " + std::to_string(pieceBytes_)
                                        + " bytes (allowed: 64 bytes to 64 MiB)");
        uint8_t header[kHeaderBytes];
        std::memcpy(header, kMagic, 8);
        put32(header + 8, kSessionStateVersion);
        put32(header + 12, static_cast<uint32_t>(pieceBytes_));
        put32(header + 16, crc32(header, 16));
        sink_.write(header, kHeaderBytes);
        buffer_.reserve(pieceBytes_);
        buffer_.resize(kFrameHeaderBytes);
    }

    void put(const void* data, std::size_t bytes)
    {
        const auto* p = static_cast<const uint8_t*>(data);
        total_ += bytes;
        while (bytes > 0) {
            if (buffer_.size() == pieceBytes_)
                flush();
            const std::size_t n = std::min(bytes, pieceBytes_ - buffer_.size());
            buffer_.insert(buffer_.end(), p, p + n);
            p += n;
            bytes -= n;
        }
    }
    void putU32(uint32_t v) { put(&v, 4); }
    void putText(const std::string& text)
    {
        putU32(static_cast<uint32_t>(text.size()));
        put(text.data(), text.size());
    }

    void finish()
    {
        const uint64_t before = total_;
        put(kTrailer, 4);
        put(&before, 8);
        flush();
    }

private:
    void flush()
    {
        const std::size_t payload = buffer_.size() - kFrameHeaderBytes;
        if (payload == 0)
            return;
        put32(buffer_.data(), static_cast<uint32_t>(payload));
        put32(buffer_.data() + 4, crc32(buffer_.data() + kFrameHeaderBytes, payload));
        sink_.write(buffer_.data(), buffer_.size());
        buffer_.resize(kFrameHeaderBytes);
    }

    StateWriter& sink_;
    std::size_t pieceBytes_;
    std::vector<uint8_t> buffer_;  // frame header + payload
    uint64_t total_ = 0;
};

// Reads the frames back, checking each before any of its bytes are handed out.
class FrameReader {
public:
    explicit FrameReader(StateReader& source) : source_(source)
    {
        uint8_t header[kHeaderBytes];
        if (readUpTo(header, kHeaderBytes) != kHeaderBytes || std::memcmp(header, kMagic, 8) != 0)
            throw SessionStateError("not a Folio session state (no FOLIOSES header)");
        const uint32_t version = get32(header + 8);
        if (crc32(header, 16) != get32(header + 16))
            throw SessionStateError("session state header is corrupt (checksum mismatch)");
        if (version < 1 || version > kSessionStateVersion)
            throw SessionStateError("session state format version " + std::to_string(version)
                                    + " is not one this Folio reads (1 to " + std::to_string(kSessionStateVersion) + ")");
        version_ = version;
        pieceLimit_ = get32(header + 12);
        if (pieceLimit_ < kMinPieceLimit || pieceLimit_ > kMaxPieceLimit)
            throw SessionStateError("session state header is corrupt (piece limit " + std::to_string(pieceLimit_) + ")");
    }

    // Reads exactly `bytes`; `what` names the field in errors.
    void get(void* data, std::size_t bytes, const std::string& what)
    {
        auto* p = static_cast<uint8_t*>(data);
        while (bytes > 0) {
            if (offset_ == payload_.size())
                nextFrame(what);
            const std::size_t n = std::min(bytes, payload_.size() - offset_);
            std::memcpy(p, payload_.data() + offset_, n);
            offset_ += n;
            p += n;
            bytes -= n;
            total_ += n;
        }
    }
    uint32_t getU32(const std::string& what)
    {
        uint32_t v;
        get(&v, 4, what);
        return v;
    }
    uint32_t version() const { return version_; }
    std::string getText(const std::string& what)
    {
        const uint32_t length = getU32(what);
        if (length > kMaxOptionText)
            throw SessionStateError("session state is corrupt: " + what + " of " + std::to_string(length) + " bytes");
        std::string text(length, '\0');
        get(text.data(), length, what);
        return text;
    }

    void finish()
    {
        const uint64_t expected = total_;
        char trailer[4];
        uint64_t counted = 0;
        get(trailer, 4, "end marker");
        get(&counted, 8, "end marker");
        if (std::memcmp(trailer, kTrailer, 4) != 0 || counted != expected)
            throw SessionStateError("session state is corrupt: no end marker after the KV cache");
        uint8_t extra;
        if (offset_ != payload_.size() || readUpTo(&extra, 1) != 0)
            throw SessionStateError("session state is corrupt: bytes after its end marker");
    }

private:
    std::size_t readUpTo(void* data, std::size_t bytes)
    {
        auto* p = static_cast<uint8_t*>(data);
        std::size_t done = 0;
        while (done < bytes) {
            const std::size_t n = source_.read(p + done, bytes - done);
            if (n == 0)
                break;
            done += n;
        }
        return done;
    }

    void nextFrame(const std::string& what)
    {
        uint8_t header[kFrameHeaderBytes];
        if (readUpTo(header, kFrameHeaderBytes) != kFrameHeaderBytes)
            throw SessionStateError("session state is truncated: it ends before " + what);
        const uint32_t length = get32(header);
        if (length == 0 || length > pieceLimit_ - kFrameHeaderBytes)
            throw SessionStateError("session state is corrupt: piece " + std::to_string(frames_) + " claims "
                                    + std::to_string(length) + " bytes");
        payload_.resize(length);
        if (readUpTo(payload_.data(), length) != length)
            throw SessionStateError("session state is truncated: piece " + std::to_string(frames_) + " (" + what
                                    + ") is cut short");
        if (crc32(payload_.data(), length) != get32(header + 4))
            throw SessionStateError("session state is corrupt: checksum mismatch in piece " + std::to_string(frames_)
                                    + " (" + what + ")");
        offset_ = 0;
        ++frames_;
    }

    StateReader& source_;
    uint32_t version_ = 0;
    std::size_t pieceLimit_ = 0;
    std::vector<uint8_t> payload_;
    std::size_t offset_ = 0;
    uint64_t total_ = 0;
    int frames_ = 0;
};

// Shortest text that reads back as the same float.
std::string exact(float value)
{
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, value);
    return std::string(text, result.ptr);
}

std::string floatsDigest(const std::vector<float>& values)
{
    if (values.empty())
        return "none";
    Hash64 hash;
    hash.add(values.data(), values.size() * sizeof(float));
    return std::to_string(values.size()) + " values, hash " + hash.hex();
}

std::string modelIdentity(const Model& model)
{
    std::string name;
    try {
        name = model.file().getString("general.name").value_or("");
    } catch (const std::exception&) {
        // a general.name of another type: the fingerprint alone identifies the model
    }
    return name.empty() ? model.fingerprint() : name + " (" + model.fingerprint() + ")";
}

// FNV-1a over the token ids: names the prefix a delta state continues.
uint64_t tokensDigest(const int32_t* tokens, std::size_t n)
{
    uint64_t h = 1469598103934665603ull;
    const auto* p = reinterpret_cast<const uint8_t*>(tokens);
    for (std::size_t i = 0; i < n * sizeof(int32_t); ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

std::string geometryText(int layers, int kvHeads, int headDim, std::size_t rowBytes)
{
    return std::to_string(layers) + " layers x " + std::to_string(kvHeads) + " KV heads x head dim "
           + std::to_string(headDim) + " (" + std::to_string(rowBytes) + "-byte rows)";
}

} // namespace

// ---- adapters ----------------------------------------------------------------

void OstreamStateWriter::write(const void* data, std::size_t bytes)
{
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!out_)
        throw SessionStateError("session state: the output stream failed");
}

std::size_t IstreamStateReader::read(void* data, std::size_t bytes)
{
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(bytes));
    return static_cast<std::size_t>(in_.gcount());
}

FileStateWriter::FileStateWriter(const std::string& path) : path_(path), file_(path, std::ios::binary | std::ios::trunc)
{
    if (!file_)
        throw SessionStateError(path + ": cannot be written");
}

void FileStateWriter::write(const void* data, std::size_t bytes)
{
    file_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
    if (!file_)
        throw SessionStateError(path_ + ": write failed");
}

void FileStateWriter::close()
{
    file_.close();
    if (!file_)
        throw SessionStateError(path_ + ": write failed");
}

FileStateReader::FileStateReader(const std::string& path) : path_(path), file_(path, std::ios::binary)
{
    if (!file_)
        throw SessionStateError(path + ": cannot be read");
}

std::size_t FileStateReader::read(void* data, std::size_t bytes)
{
    file_.read(static_cast<char*>(data), static_cast<std::streamsize>(bytes));
    return static_cast<std::size_t>(file_.gcount());
}

void MemoryStateWriter::write(const void* data, std::size_t bytes)
{
    const auto* p = static_cast<const uint8_t*>(data);
    pieces_.emplace_back(p, p + bytes);
}

std::vector<uint8_t> MemoryStateWriter::joined() const
{
    std::vector<uint8_t> all;
    for (const auto& piece : pieces_)
        all.insert(all.end(), piece.begin(), piece.end());
    return all;
}

std::size_t MemoryStateReader::read(void* data, std::size_t bytes)
{
    while (piece_ < pieces_.size() && offset_ == pieces_[piece_].size()) {
        ++piece_;
        offset_ = 0;
    }
    if (piece_ == pieces_.size())
        return 0;
    const std::size_t n = std::min(bytes, pieces_[piece_].size() - offset_);
    std::memcpy(data, pieces_[piece_].data() + offset_, n);
    offset_ += n;
    return n;
}

// ---- Session -------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> Session::shapingOptions() const
{
    // Everything that changes the bytes of the cache or the logits computed from it;
    // one line per option. Not the context length (it only bounds the tokens), the
    // threads or the micro-batch size (float rounding only).
    std::vector<std::pair<std::string, std::string>> options;
    auto add = [&](const char* name, std::string value) { options.emplace_back(name, std::move(value)); };
    add("model", modelIdentity(*model_));
    add("architecture", model_->params().architecture);
    add("KV type", std::string(kvTypeName(cache_.type())));
    add("RoPE dimensions", std::to_string(rope_.dims));
    add("RoPE base", exact(rope_.freqBase));
    add("RoPE frequency scale", exact(rope_.freqScale));
    add("RoPE layout", rope_.neox ? "neox" : "normal");
    add("RoPE frequency factors", floatsDigest(rope_.freqFactors));
    add("RoPE attention factor", exact(rope_.attnFactor));
    add("YaRN extrapolation factor", exact(rope_.extFactor));
    add("YaRN beta fast", exact(rope_.betaFast));
    add("YaRN beta slow", exact(rope_.betaSlow));
    add("YaRN original context", std::to_string(rope_.originalContext));
    // A ring (sliding-window layers, kv_cache.h) holds its last rows only: a state
    // loads into rings of the same size (files without rings keep their option list).
    std::string rings;
    for (int layer = 0; layer < cache_.layers(); ++layer)
        if (cache_.layerRows(layer) < cache_.capacity()) {
            if (!rings.empty())
                rings += ',';
            rings += std::to_string(layer);  // appended piece by piece: GCC 12 warns falsely on a + chain
            rings += ':';
            rings += std::to_string(cache_.layerRows(layer));
        }
    if (!rings.empty())
        add("KV ring rows", rings);
    add("DCA", dca_ ? "on" : "off");
    add("DCA chunk size", dca_ ? std::to_string(dca_->chunkSize) : "-");
    add("DCA local window", dca_ ? std::to_string(dca_->localWindow) : "-");
    add("DCA trained length", dca_ ? std::to_string(dca_->trainedLength) : "-");
    add("DCA temperature", dca_ ? exact(dca_->temperature) : "-");
    return options;
}

void Session::saveState(StateWriter& sink, std::size_t pieceBytes, int fromPosition) const
{
    if (fromPosition < 0 || fromPosition > position())
        throw std::invalid_argument("session state: a delta from position " + std::to_string(fromPosition)
                                    + " of a session holding " + std::to_string(position()) + " tokens");
    FrameWriter out(sink, pieceBytes == 0 ? kStatePieceBytes : pieceBytes);
    const auto options = shapingOptions();
    out.putU32(static_cast<uint32_t>(options.size()));
    for (const auto& [name, value] : options) {
        out.putText(name);
        out.putText(value);
    }
    const uint32_t geometry[5] = {static_cast<uint32_t>(cache_.layers()), static_cast<uint32_t>(cache_.kvHeads()),
                                  static_cast<uint32_t>(cache_.headDim()), static_cast<uint32_t>(cache_.rowBytes()),
                                  static_cast<uint32_t>(options_.contextLength)};
    out.put(geometry, sizeof geometry);
    const int base = fromPosition;
    const uint64_t digest = tokensDigest(tokens_.data(), static_cast<std::size_t>(base));
    out.putU32(static_cast<uint32_t>(base));
    out.put(&digest, sizeof digest);
    const int n = position();
    out.putU32(static_cast<uint32_t>(n));
    out.put(tokens_.data() + base, sizeof(int32_t) * (n - base));
    std::vector<int32_t> positions;
    for (int i = base; i < n; ++i)
        positions.push_back(i);  // token i sits at position i (DCA remaps inside the attention only)
    out.put(positions.data(), sizeof(int32_t) * positions.size());
    out.putU32(static_cast<uint32_t>(logits_.size()));
    out.put(logits_.data(), sizeof(float) * logits_.size());
    // Row by row range up to a ring's wrap (kv_cache.h). A ring's slots older than it
    // holds go out with the newer slots' bytes that replaced them: never read (outside
    // every window), and loading in slot order leaves each row with its newest slot.
    for (int layer = 0; layer < cache_.layers(); ++layer)
        for (int head = 0; head < cache_.kvHeads(); ++head)
            for (int slot = base; slot < n;) {
                const int run = std::min(n - slot, cache_.contiguousRows(layer, slot));
                const std::size_t bytes = static_cast<std::size_t>(run) * cache_.rowBytes();
                out.put(cache_.keyRow(layer, head, slot), bytes);
                out.put(cache_.valueRow(layer, head, slot), bytes);
                slot += run;
            }
    out.finish();
}

void Session::loadState(StateReader& source)
{
    FrameReader in(source);

    // 1. What shaped the saved cache must be what shapes this session's.
    const uint32_t count = in.getU32("the option list");
    if (count > kMaxOptions)
        throw SessionStateError("session state is corrupt: " + std::to_string(count) + " options");
    std::vector<std::pair<std::string, std::string>> saved;
    for (uint32_t i = 0; i < count; ++i) {
        std::string name = in.getText("an option name");
        std::string value = in.getText("option '" + name + "'");
        saved.emplace_back(std::move(name), std::move(value));
    }
    std::string differences;
    auto differ = [&](const std::string& name, const std::string& was, const std::string& is) {
        differences += (differences.empty() ? "" : "; ") + name + ": saved " + was + ", session " + is;
    };
    const auto current = shapingOptions();
    for (const auto& [name, value] : current) {
        const auto it = std::find_if(saved.begin(), saved.end(), [&](const auto& o) { return o.first == name; });
        if (it == saved.end())
            differ(name, "(absent)", value);
        else if (it->second != value)
            differ(name, it->second, value);
    }
    for (const auto& [name, value] : saved)
        if (std::none_of(current.begin(), current.end(), [&](const auto& o) { return o.first == name; }))
            differ(name, value, "(absent)");
    if (!differences.empty())
        throw SessionStateError("the saved session state does not match this session: " + differences);

    uint32_t geometry[5];
    in.get(geometry, sizeof geometry, "the cache geometry");
    if (geometry[0] != static_cast<uint32_t>(cache_.layers()) || geometry[1] != static_cast<uint32_t>(cache_.kvHeads())
        || geometry[2] != static_cast<uint32_t>(cache_.headDim()) || geometry[3] != cache_.rowBytes())
        throw SessionStateError("the saved session state does not match this session: cache of "
                                + geometryText(static_cast<int>(geometry[0]), static_cast<int>(geometry[1]),
                                               static_cast<int>(geometry[2]), geometry[3])
                                + ", session " + geometryText(cache_.layers(), cache_.kvHeads(), cache_.headDim(),
                                                              cache_.rowBytes()));

    // 2. A delta continues a prefix this session must already hold, token for token.
    uint32_t base = 0;
    if (in.version() >= 2) {
        base = in.getU32("the prefix length");
        uint64_t digest = 0;
        in.get(&digest, sizeof digest, "the prefix digest");
        if (base > 0
            && (base > static_cast<uint32_t>(position()) || tokensDigest(tokens_.data(), base) != digest))
            throw SessionStateError("the saved session state continues a prefix of " + std::to_string(base)
                                    + " tokens that this session does not hold (it holds "
                                    + std::to_string(position()) + " tokens"
                                    + (base <= static_cast<uint32_t>(position()) ? ", other ones" : "") + ")");
    }

    // 3. The tokens must fit; only then is anything of their size allocated.
    const uint32_t n = in.getU32("the token count");
    if (n > static_cast<uint32_t>(options_.contextLength))
        throw SessionStateError("the saved session state holds " + std::to_string(n) + " tokens (saved with a context of "
                                + std::to_string(geometry[4]) + "), more than this session's context of "
                                + std::to_string(options_.contextLength));
    if (n < base)
        throw SessionStateError("session state is corrupt: " + std::to_string(n) + " tokens after a prefix of "
                                + std::to_string(base));
    std::vector<int32_t> tokens(tokens_.begin(), tokens_.begin() + base), positions(n - base);
    tokens.resize(n);
    in.get(tokens.data() + base, sizeof(int32_t) * (n - base), "the tokens");
    in.get(positions.data(), sizeof(int32_t) * (n - base), "the positions");
    const int vocab = model_->params().vocabSize;
    for (uint32_t i = base; i < n; ++i) {
        if (tokens[i] < 0 || tokens[i] >= vocab)
            throw SessionStateError("session state is corrupt: token " + std::to_string(i) + " is "
                                    + std::to_string(tokens[i]) + ", outside the vocabulary");
        if (positions[i - base] != static_cast<int32_t>(i))
            throw SessionStateError("session state holds position " + std::to_string(positions[i - base])
                                    + " for token " + std::to_string(i) + "; this Folio places token i at position i");
    }
    const uint32_t logitCount = in.getU32("the logits");
    if (logitCount != 0 && logitCount != static_cast<uint32_t>(vocab))
        throw SessionStateError("session state is corrupt: " + std::to_string(logitCount) + " logits for a vocabulary of "
                                + std::to_string(vocab));
    std::vector<float> logits(logitCount);
    in.get(logits.data(), sizeof(float) * logitCount, "the logits");

    // 4. The cache bytes go straight into the cache: from here a failure leaves the
    // session empty (a delta: holding only its prefix) rather than a mix of two states.
    tokens_.resize(base);
    logits_.clear();
    cache_.truncate(static_cast<int>(base));
    for (int layer = 0; layer < cache_.layers(); ++layer)
        for (int head = 0; head < cache_.kvHeads(); ++head)
            for (int slot = static_cast<int>(base); slot < static_cast<int>(n);) {
                const std::string where = "the KV cache of layer " + std::to_string(layer);
                const int run = std::min(static_cast<int>(n) - slot, cache_.contiguousRows(layer, slot));
                const std::size_t bytes = static_cast<std::size_t>(run) * cache_.rowBytes();
                in.get(cache_.writableKeyRow(layer, head, slot), bytes, where);
                in.get(cache_.writableValueRow(layer, head, slot), bytes, where);
                slot += run;
            }
    in.finish();
    cache_.commit(static_cast<int>(n));
    tokens_ = std::move(tokens);
    logits_ = std::move(logits);
}

} // namespace folio
