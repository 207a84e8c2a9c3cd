#include "engine/gguf/gguf.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <sstream>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace folio {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader decodes little-endian values in place");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 8;
constexpr int kMaxArrayNesting = 16;     // deeper than any real file; bounds the recursion
constexpr int kMaxDims = 4;

// Smallest encodings, used to reject counts no file of this size could hold
// before anything is allocated for them.
constexpr std::size_t kMinEntryBytes = 8 + 4 + 1;            // empty key, type, a u8
constexpr std::size_t kMinTensorBytes = 8 + 4 + 8 + 4 + 8;   // empty name, one dim

// Per value type, indexed by its number: printable name, bytes of one element
// (0 for strings and arrays) and whether it is an integer type.
struct ValueTypeInfo {
    std::string_view name;
    std::size_t bytes;
    bool integer;
};
constexpr ValueTypeInfo kValueTypes[] = {
    {"u8", 1, true}, {"i8", 1, true}, {"u16", 2, true}, {"i16", 2, true}, {"u32", 4, true},
    {"i32", 4, true}, {"f32", 4, false}, {"bool", 1, false}, {"string", 0, false}, {"array", 0, false},
    {"u64", 8, true}, {"i64", 8, true}, {"f64", 8, false},
};

bool isKnownValueType(uint32_t raw) { return raw < std::size(kValueTypes); }
std::size_t scalarBytes(GgufValueType t) { return kValueTypes[static_cast<uint32_t>(t)].bytes; }
bool isInteger(GgufValueType t) { return kValueTypes[static_cast<uint32_t>(t)].integer; }
bool isFloat(GgufValueType t) { return t == GgufValueType::Float32 || t == GgufValueType::Float64; }

template <typename T>
T load(const uint8_t* p)
{
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Decodes one integer of an integer type; values were validated at open(), except
// that a u64 beyond int64 is only an error when someone asks for it as int64.
bool loadInteger(GgufValueType t, const uint8_t* p, int64_t& out)
{
    switch (t) {
    case GgufValueType::UInt8: out = load<uint8_t>(p); return true;
    case GgufValueType::Int8: out = load<int8_t>(p); return true;
    case GgufValueType::UInt16: out = load<uint16_t>(p); return true;
    case GgufValueType::Int16: out = load<int16_t>(p); return true;
    case GgufValueType::UInt32: out = load<uint32_t>(p); return true;
    case GgufValueType::Int32: out = load<int32_t>(p); return true;
    case GgufValueType::Int64: out = load<int64_t>(p); return true;
    case GgufValueType::UInt64: {
        const uint64_t u = load<uint64_t>(p);
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return false;
        out = static_cast<int64_t>(u);
        return true;
    }
    default: return false;
    }
}

double loadFloat(GgufValueType t, const uint8_t* p)
{
    return t == GgufValueType::Float32 ? load<float>(p) : load<double>(p);
}

std::string quoted(std::string_view s, std::size_t maxChars)
{
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < maxChars; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
        else if (c == '\n') out += "\\n";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else out += static_cast<char>(c);
    }
    if (s.size() > maxChars)
        out += "...";
    out += '"';
    return out;
}

} // namespace

std::string_view ggufValueTypeName(GgufValueType type)
{
    return isKnownValueType(static_cast<uint32_t>(type)) ? kValueTypes[static_cast<uint32_t>(type)].name
                                                         : "unknown";
}

int64_t GgufTensor::elements() const
{
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    return n;
}

int64_t GgufTensor::rows() const
{
    int64_t n = 1;
    for (std::size_t i = 1; i < dims.size(); ++i)
        n *= dims[i];
    return n;
}

// Walks the mapped bytes once, checking every read against the end of the file.
// `where_` names what is being read so that errors point at the key or tensor.
class GgufParser {
public:
    explicit GgufParser(GgufFile& file) : f_(file), end_(file.size_) {}

    void parse()
    {
        parseHeader();
        for (uint64_t i = 0; i < kvCount_; ++i)
            parseEntry(i);
        for (uint64_t i = 0; i < tensorCount_; ++i)
            parseTensorInfo(i);
        placeTensors();
    }

    // Returns the offset just past the value of `type` starting at `pos`.
    std::size_t skipValue(GgufValueType type, std::size_t pos, int depth)
    {
        if (type == GgufValueType::String)
            return skipString(pos, "string");
        if (type != GgufValueType::Array) {
            need(pos, scalarBytes(type), "value");
            if (type == GgufValueType::Bool && f_.base_[pos] > 1)
                error("bool value " + std::to_string(f_.base_[pos]) + " is neither 0 nor 1");
            return pos + scalarBytes(type);
        }
        if (depth >= kMaxArrayNesting)
            error("arrays nested more than " + std::to_string(kMaxArrayNesting) + " deep");
        const uint32_t rawElem = u32(pos, "array element type");
        if (!isKnownValueType(rawElem))
            error("unknown array element type " + std::to_string(rawElem));
        const uint64_t count = u64(pos + 4, "array length");
        const auto elem = static_cast<GgufValueType>(rawElem);
        pos += 12;
        const std::size_t left = end_ - pos;
        if (const std::size_t each = scalarBytes(elem); each != 0) {
            if (count > left / each)
                error("array of " + std::to_string(count) + " " + std::string(ggufValueTypeName(elem)) +
                      " runs past the end of the file");
            if (elem == GgufValueType::Bool)
                for (uint64_t i = 0; i < count; ++i)
                    if (f_.base_[pos + i] > 1)
                        error("bool array item " + std::to_string(i) + " is neither 0 nor 1");
            return pos + static_cast<std::size_t>(count) * each;
        }
        // Strings take at least 8 bytes, nested arrays at least 12: a count that
        // cannot fit is rejected before looping over it.
        const std::size_t minEach = elem == GgufValueType::String ? 8 : 12;
        if (count > left / minEach)
            error("array length " + std::to_string(count) + " runs past the end of the file");
        for (uint64_t i = 0; i < count; ++i)
            pos = skipValue(elem, pos, depth + 1);
        return pos;
    }

private:
    [[noreturn]] void error(const std::string& what) const
    {
        throw GgufError(f_.path_ + ": " + (where_.empty() ? "" : where_ + ": ") + what);
    }

    void need(std::size_t pos, std::size_t bytes, const char* what) const
    {
        if (pos > end_ || bytes > end_ - pos)
            error(std::string("truncated: ") + what + " runs past the end of the file (" +
                  std::to_string(end_) + " bytes)");
    }
    uint32_t u32(std::size_t pos, const char* what) const { need(pos, 4, what); return load<uint32_t>(f_.base_ + pos); }
    uint64_t u64(std::size_t pos, const char* what) const { need(pos, 8, what); return load<uint64_t>(f_.base_ + pos); }

    std::size_t skipString(std::size_t pos, const char* what) const
    {
        const uint64_t len = u64(pos, what);
        if (len > end_ - pos - 8)
            error(std::string(what) + " length " + std::to_string(len) + " runs past the end of the file");
        return pos + 8 + static_cast<std::size_t>(len);
    }

    std::string readString(std::size_t& pos, const char* what) const
    {
        const std::size_t next = skipString(pos, what);
        std::string s(reinterpret_cast<const char*>(f_.base_ + pos + 8), next - pos - 8);
        pos = next;
        return s;
    }

    void parseHeader()
    {
        where_ = "header";
        if (end_ < 4 || load<uint32_t>(f_.base_) != kMagic)
            error("not a GGUF file (the magic \"GGUF\" is missing)");
        const uint32_t version = u32(4, "version");
        if (version == 1)
            error("GGUF version 1 is not supported (versions 2 and 3 are)");
        const uint32_t swapped = __builtin_bswap32(version);
        if (swapped >= 1 && swapped <= 3)
            error("big-endian GGUF file (version reads as " + std::to_string(version) +
                  "); only little-endian files are supported");
        if (version != 2 && version != 3)
            error("unsupported GGUF version " + std::to_string(version) + " (versions 2 and 3 are)");
        f_.version_ = version;
        need(0, kHeaderBytes, "header");
        tensorCount_ = load<uint64_t>(f_.base_ + 8);
        kvCount_ = load<uint64_t>(f_.base_ + 16);
        const std::size_t rest = end_ - kHeaderBytes;
        if (kvCount_ > rest / kMinEntryBytes)
            error("metadata count " + std::to_string(kvCount_) + " is impossible in a file of " +
                  std::to_string(end_) + " bytes");
        if (tensorCount_ > rest / kMinTensorBytes)
            error("tensor count " + std::to_string(tensorCount_) + " is impossible in a file of " +
                  std::to_string(end_) + " bytes");
        pos_ = kHeaderBytes;
        f_.entries_.reserve(static_cast<std::size_t>(kvCount_));
        f_.tensors_.reserve(static_cast<std::size_t>(tensorCount_));
    }

    void parseEntry(uint64_t index)
    {
        where_ = "metadata entry " + std::to_string(index);
        GgufFile::Entry e;
        e.key = readString(pos_, "key");
        where_ = "metadata key '" + e.key + "'";
        if (f_.entryIndex_.count(e.key))
            error("duplicate key");
        const uint32_t rawType = u32(pos_, "value type");
        if (!isKnownValueType(rawType))
            error("unknown value type " + std::to_string(rawType));
        e.type = static_cast<GgufValueType>(rawType);
        e.valueOffset = pos_ + 4;
        if (e.type == GgufValueType::Array) {
            e.elementType = static_cast<GgufValueType>(u32(e.valueOffset, "array element type"));
            e.count = u64(e.valueOffset + 4, "array length");
            e.elementsOffset = e.valueOffset + 12;
        }
        pos_ = skipValue(e.type, e.valueOffset, 0);
        if (e.key == "general.alignment")
            setAlignment(e);
        f_.entryIndex_.emplace(e.key, f_.entries_.size());
        f_.entries_.push_back(std::move(e));
    }

    void setAlignment(const GgufFile::Entry& e)
    {
        int64_t value = 0;
        if (!loadInteger(e.type, f_.base_ + e.valueOffset, value))
            error("must be an integer, not " + std::string(ggufValueTypeName(e.type)));
        if (value <= 0 || value > (int64_t{1} << 30) || (value & (value - 1)) != 0)
            error("alignment " + std::to_string(value) + " is not a power of two (up to 2^30)");
        f_.alignment_ = static_cast<std::size_t>(value);
    }

    void parseTensorInfo(uint64_t index)
    {
        where_ = "tensor " + std::to_string(index);
        GgufTensor t;
        t.name = readString(pos_, "tensor name");
        where_ = "tensor '" + t.name + "'";
        if (f_.tensorIndex_.count(t.name))
            error("duplicate tensor name");
        const uint32_t nDims = u32(pos_, "dimension count");
        pos_ += 4;
        if (nDims < 1 || nDims > kMaxDims)
            error(std::to_string(nDims) + " dimensions (1 to 4 are allowed)");
        int64_t elements = 1;
        for (uint32_t d = 0; d < nDims; ++d) {
            const uint64_t raw = u64(pos_, "dimension");
            pos_ += 8;
            if (raw == 0 || raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                error("dimension " + std::to_string(d) + " is " + std::to_string(static_cast<int64_t>(raw)) +
                      " (must be positive)");
            const auto dim = static_cast<int64_t>(raw);
            if (elements > std::numeric_limits<int64_t>::max() / dim)
                error("element count overflows");
            elements *= dim;
            t.dims.push_back(dim);
        }
        const uint32_t rawType = u32(pos_, "tensor type");
        const auto traits = typeTraits(rawType);
        if (!traits)
            error("unknown tensor type " + std::to_string(rawType));
        t.type = traits->type;
        if (t.dims[0] % traits->blockSize != 0)
            error("first dimension " + std::to_string(t.dims[0]) + " is not a multiple of the " +
                  std::string(traits->name) + " block size " + std::to_string(traits->blockSize));
        const uint64_t bytesPerRow = static_cast<uint64_t>(t.dims[0] / traits->blockSize) *
                                     static_cast<uint64_t>(traits->blockBytes);
        const auto rows = static_cast<uint64_t>(t.rows());
        if (bytesPerRow > std::numeric_limits<uint64_t>::max() / rows)
            error("byte size overflows");
        t.nbytes = static_cast<std::size_t>(bytesPerRow * rows);
        t.offset = u64(pos_ + 4, "tensor offset");
        pos_ += 12;
        f_.tensorIndex_.emplace(t.name, f_.tensors_.size());
        f_.tensors_.push_back(std::move(t));
    }

    void placeTensors()
    {
        const std::size_t align = f_.alignment_;
        const std::size_t padded = pos_ + (align - pos_ % align) % align;
        // A file without tensors (a vocabulary-only GGUF) may end before the padding.
        if (f_.tensors_.empty()) {
            f_.dataOffset_ = std::min(padded, end_);
            return;
        }
        where_ = "tensor data";
        if (padded > end_)
            error("truncated: the data section starts past the end of the file");
        f_.dataOffset_ = padded;
        const std::size_t available = end_ - padded;
        for (GgufTensor& t : f_.tensors_) {
            where_ = "tensor '" + t.name + "'";
            if (t.offset % align != 0)
                error("data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                      std::to_string(align));
            if (t.offset > available || t.nbytes > available - t.offset)
                error("data [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                      ") runs past the end of the file (data section holds " + std::to_string(available) +
                      " bytes)");
            t.data = f_.base_ + padded + t.offset;
        }
    }

    GgufFile& f_;
    const std::size_t end_;
    std::size_t pos_ = 0;
    uint64_t tensorCount_ = 0;
    uint64_t kvCount_ = 0;
    std::string where_;
};

GgufFile GgufFile::open(const std::string& path)
{
    GgufFile file;
    file.path_ = path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw GgufError(path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw GgufError(path + ": not a regular file");
    }
    if (st.st_size == 0) {
        ::close(fd);
        throw GgufError(path + ": file is empty");
    }
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    const int mapErrno = errno;
    ::close(fd);  // the mapping keeps the file alive
    if (map == MAP_FAILED)
        throw GgufError(path + ": cannot map: " + std::strerror(mapErrno));
    file.base_ = static_cast<const uint8_t*>(map);
    file.size_ = static_cast<std::size_t>(st.st_size);
    GgufParser(file).parse();  // on error, file's destructor unmaps
    return file;
}

GgufFile::GgufFile(GgufFile&& other) noexcept { *this = std::move(other); }

GgufFile& GgufFile::operator=(GgufFile&& other) noexcept
{
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        base_ = std::exchange(other.base_, nullptr);
        size_ = std::exchange(other.size_, 0);
        version_ = other.version_;
        alignment_ = other.alignment_;
        dataOffset_ = other.dataOffset_;
        entries_ = std::move(other.entries_);
        entryIndex_ = std::move(other.entryIndex_);
        tensors_ = std::move(other.tensors_);
        tensorIndex_ = std::move(other.tensorIndex_);
    }
    return *this;
}

GgufFile::~GgufFile() { release(); }

void GgufFile::release() noexcept
{
    if (base_)
        ::munmap(const_cast<uint8_t*>(base_), size_);
    base_ = nullptr;
    size_ = 0;
}

const GgufFile::Entry* GgufFile::find(std::string_view key) const
{
    const auto it = entryIndex_.find(key);
    return it == entryIndex_.end() ? nullptr : &entries_[it->second];
}

const GgufFile::Entry& GgufFile::require(std::string_view key) const
{
    if (const Entry* e = find(key))
        return *e;
    fail(key, "no such metadata key");
}

void GgufFile::fail(std::string_view key, const std::string& what) const
{
    throw GgufError(path_ + ": metadata key '" + std::string(key) + "': " + what);
}

bool GgufFile::has(std::string_view key) const { return find(key) != nullptr; }

GgufValueType GgufFile::typeOf(std::string_view key) const { return require(key).type; }

std::optional<std::string> GgufFile::getString(std::string_view key) const
{
    const Entry* e = find(key);
    if (!e)
        return std::nullopt;
    if (e->type != GgufValueType::String)
        fail(key, "is " + std::string(ggufValueTypeName(e->type)) + ", not string");
    const auto len = static_cast<std::size_t>(load<uint64_t>(base_ + e->valueOffset));
    return std::string(reinterpret_cast<const char*>(base_ + e->valueOffset + 8), len);
}

std::optional<int64_t> GgufFile::getInt(std::string_view key) const
{
    const Entry* e = find(key);
    if (!e)
        return std::nullopt;
    if (!isInteger(e->type))
        fail(key, "is " + std::string(ggufValueTypeName(e->type)) + ", not an integer");
    int64_t v = 0;
    if (!loadInteger(e->type, base_ + e->valueOffset, v))
        fail(key, "u64 value does not fit in int64");
    return v;
}

std::optional<double> GgufFile::getFloat(std::string_view key) const
{
    const Entry* e = find(key);
    if (!e)
        return std::nullopt;
    if (isFloat(e->type))
        return loadFloat(e->type, base_ + e->valueOffset);
    if (e->type == GgufValueType::UInt64)
        return static_cast<double>(load<uint64_t>(base_ + e->valueOffset));
    int64_t v = 0;
    if (isInteger(e->type) && loadInteger(e->type, base_ + e->valueOffset, v))
        return static_cast<double>(v);
    fail(key, "is " + std::string(ggufValueTypeName(e->type)) + ", not a number");
}

std::optional<bool> GgufFile::getBool(std::string_view key) const
{
    const Entry* e = find(key);
    if (!e)
        return std::nullopt;
    if (e->type != GgufValueType::Bool)
        fail(key, "is " + std::string(ggufValueTypeName(e->type)) + ", not bool");
    return base_[e->valueOffset] != 0;
}

GgufValueType GgufFile::arrayElementType(std::string_view key) const
{
    const Entry& e = require(key);
    if (e.type != GgufValueType::Array)
        fail(key, "is " + std::string(ggufValueTypeName(e.type)) + ", not an array");
    return e.elementType;
}

std::size_t GgufFile::arrayLength(std::string_view key) const
{
    const Entry* e = find(key);
    if (!e)
        return 0;
    if (e->type != GgufValueType::Array)
        fail(key, "is " + std::string(ggufValueTypeName(e->type)) + ", not an array");
    return static_cast<std::size_t>(e->count);
}

std::vector<std::string> GgufFile::getStringArray(std::string_view key) const
{
    std::vector<std::string> out;
    const Entry* e = find(key);
    if (!e)
        return out;
    if (e->type != GgufValueType::Array || e->elementType != GgufValueType::String)
        fail(key, "is not an array of strings");
    out.reserve(static_cast<std::size_t>(e->count));
    std::size_t pos = e->elementsOffset;
    for (uint64_t i = 0; i < e->count; ++i) {  // lengths were validated at open()
        const auto len = static_cast<std::size_t>(load<uint64_t>(base_ + pos));
        out.emplace_back(reinterpret_cast<const char*>(base_ + pos + 8), len);
        pos += 8 + len;
    }
    return out;
}

std::vector<float> GgufFile::getFloatArray(std::string_view key) const
{
    std::vector<float> out;
    const Entry* e = find(key);
    if (!e)
        return out;
    if (e->type != GgufValueType::Array || !isFloat(e->elementType))
        fail(key, "is not an array of f32 or f64");
    const std::size_t n = static_cast<std::size_t>(e->count);
    out.resize(n);
    const uint8_t* p = base_ + e->elementsOffset;
    if (e->elementType == GgufValueType::Float32 && n > 0)
        std::memcpy(out.data(), p, n * sizeof(float));
    else if (e->elementType == GgufValueType::Float64)
        for (std::size_t i = 0; i < n; ++i)
            out[i] = static_cast<float>(load<double>(p + 8 * i));
    return out;
}

std::vector<int64_t> GgufFile::getIntArray(std::string_view key) const
{
    std::vector<int64_t> out;
    const Entry* e = find(key);
    if (!e)
        return out;
    if (e->type != GgufValueType::Array || !isInteger(e->elementType))
        fail(key, "is not an array of integers");
    const std::size_t n = static_cast<std::size_t>(e->count);
    const std::size_t each = scalarBytes(e->elementType);
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        if (!loadInteger(e->elementType, base_ + e->elementsOffset + i * each, out[i]))
            fail(key, "u64 item " + std::to_string(i) + " does not fit in int64");
    return out;
}

std::vector<bool> GgufFile::getBoolArray(std::string_view key) const
{
    std::vector<bool> out;
    const Entry* e = find(key);
    if (!e)
        return out;
    if (e->type != GgufValueType::Array || e->elementType != GgufValueType::Bool)
        fail(key, "is not an array of booleans");
    out.resize(static_cast<std::size_t>(e->count));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const uint8_t value = base_[e->elementsOffset + i];
        if (value > 1)
            fail(key, "item " + std::to_string(i) + " is " + std::to_string(value) + ", neither 0 nor 1");
        out[i] = value != 0;
    }
    return out;
}

std::vector<std::string> GgufFile::keys() const
{
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const Entry& e : entries_)
        out.push_back(e.key);
    return out;
}

std::string GgufFile::architecture() const
{
    const Entry* e = find("general.architecture");
    if (!e || e->type != GgufValueType::String)
        return {};
    return *getString("general.architecture");
}

const GgufTensor* GgufFile::findTensor(std::string_view name) const
{
    const auto it = tensorIndex_.find(name);
    return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

namespace {

// Formats the validated value of `type` at `pos` and returns the offset past it.
std::size_t describeAt(const uint8_t* base, GgufValueType type, std::size_t pos, std::size_t maxItems,
                       std::ostringstream& out)
{
    int64_t i = 0;
    if (isInteger(type) && loadInteger(type, base + pos, i)) {
        out << i;
        return pos + scalarBytes(type);
    }
    switch (type) {
    case GgufValueType::UInt64: out << load<uint64_t>(base + pos); return pos + 8;
    case GgufValueType::Float32: case GgufValueType::Float64:
        out << loadFloat(type, base + pos);
        return pos + scalarBytes(type);
    case GgufValueType::Bool: out << (base[pos] ? "true" : "false"); return pos + 1;
    case GgufValueType::String: {
        const auto len = static_cast<std::size_t>(load<uint64_t>(base + pos));
        out << quoted({reinterpret_cast<const char*>(base + pos + 8), len}, 200);
        return pos + 8 + len;
    }
    case GgufValueType::Array: {
        const auto elem = static_cast<GgufValueType>(load<uint32_t>(base + pos));
        const uint64_t count = load<uint64_t>(base + pos + 4);
        pos += 12;
        out << '[';
        for (uint64_t k = 0; k < count; ++k) {
            if (k == maxItems) {
                // Skipping the rest of a nested array needs its sizes, so stop here;
                // the caller of the top-level array knows where it ends.
                out << ", ... (" << count << " " << ggufValueTypeName(elem) << " items)]";
                return 0;
            }
            if (k > 0)
                out << ", ";
            pos = describeAt(base, elem, pos, maxItems, out);
            if (pos == 0) {  // a nested array was cut short
                out << ", ...]";
                return 0;
            }
        }
        out << ']';
        return pos;
    }
    default: return pos;
    }
}

} // namespace

std::string GgufFile::describeValue(std::string_view key, std::size_t maxArrayItems) const
{
    const Entry& e = require(key);
    std::ostringstream out;
    describeAt(base_, e.type, e.valueOffset, maxArrayItems, out);
    return out.str();
}

} // namespace folio
