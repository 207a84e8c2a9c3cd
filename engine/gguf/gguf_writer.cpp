#include "engine/gguf/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace folio {
namespace {

template <typename T>
void append(std::vector<uint8_t>& out, T value)
{
    const std::size_t at = out.size();
    out.resize(at + sizeof value);
    std::memcpy(out.data() + at, &value, sizeof value);
}

void padTo(std::vector<uint8_t>& out, std::size_t alignment)
{
    out.resize(out.size() + (alignment - out.size() % alignment) % alignment, 0);
}

std::size_t paddedSize(std::size_t n, std::size_t alignment)
{
    return n + (alignment - n % alignment) % alignment;
}

} // namespace

void GgufWriter::appendString(std::vector<uint8_t>& out, const std::string& s)
{
    append<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

std::vector<uint8_t> GgufWriter::encodeArrayHeader(GgufValueType elementType, uint64_t count)
{
    std::vector<uint8_t> out;
    append<uint32_t>(out, static_cast<uint32_t>(elementType));
    append<uint64_t>(out, count);
    return out;
}

void GgufWriter::setRaw(const std::string& key, GgufValueType type, std::vector<uint8_t> encoded)
{
    for (Entry& e : entries_)
        if (e.key == key) {
            e.type = type;
            e.encoded = std::move(encoded);
            return;
        }
    entries_.push_back({key, type, std::move(encoded)});
}

template <typename T>
void GgufWriter::setScalar(const std::string& key, GgufValueType type, T value)
{
    std::vector<uint8_t> bytes;
    append(bytes, value);
    setRaw(key, type, std::move(bytes));
}

template <typename T>
void GgufWriter::setArray(const std::string& key, GgufValueType elementType, const std::vector<T>& values)
{
    std::vector<uint8_t> bytes = encodeArrayHeader(elementType, values.size());
    for (const T& v : values)
        append(bytes, v);
    setRaw(key, GgufValueType::Array, std::move(bytes));
}

void GgufWriter::setString(const std::string& key, const std::string& value)
{
    std::vector<uint8_t> bytes;
    appendString(bytes, value);
    setRaw(key, GgufValueType::String, std::move(bytes));
}

void GgufWriter::setU8(const std::string& key, uint8_t v) { setScalar(key, GgufValueType::UInt8, v); }
void GgufWriter::setI8(const std::string& key, int8_t v) { setScalar(key, GgufValueType::Int8, v); }
void GgufWriter::setU16(const std::string& key, uint16_t v) { setScalar(key, GgufValueType::UInt16, v); }
void GgufWriter::setI16(const std::string& key, int16_t v) { setScalar(key, GgufValueType::Int16, v); }
void GgufWriter::setU32(const std::string& key, uint32_t v) { setScalar(key, GgufValueType::UInt32, v); }
void GgufWriter::setI32(const std::string& key, int32_t v) { setScalar(key, GgufValueType::Int32, v); }
void GgufWriter::setU64(const std::string& key, uint64_t v) { setScalar(key, GgufValueType::UInt64, v); }
void GgufWriter::setI64(const std::string& key, int64_t v) { setScalar(key, GgufValueType::Int64, v); }
void GgufWriter::setF32(const std::string& key, float v) { setScalar(key, GgufValueType::Float32, v); }
void GgufWriter::setF64(const std::string& key, double v) { setScalar(key, GgufValueType::Float64, v); }
void GgufWriter::setBool(const std::string& key, bool v)
{
    setScalar<uint8_t>(key, GgufValueType::Bool, v ? 1 : 0);
}

void GgufWriter::setStringArray(const std::string& key, const std::vector<std::string>& values)
{
    std::vector<uint8_t> bytes = encodeArrayHeader(GgufValueType::String, values.size());
    for (const std::string& s : values)
        appendString(bytes, s);
    setRaw(key, GgufValueType::Array, std::move(bytes));
}

void GgufWriter::setF32Array(const std::string& key, const std::vector<float>& values)
{
    setArray(key, GgufValueType::Float32, values);
}

void GgufWriter::setI32Array(const std::string& key, const std::vector<int32_t>& values)
{
    setArray(key, GgufValueType::Int32, values);
}

void GgufWriter::setI64Array(const std::string& key, const std::vector<int64_t>& values)
{
    setArray(key, GgufValueType::Int64, values);
}

void GgufWriter::setBoolArray(const std::string& key, const std::vector<bool>& values)
{
    std::vector<uint8_t> bytes(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
        bytes[i] = values[i] ? 1 : 0;
    setArray(key, GgufValueType::Bool, bytes);
}

std::size_t GgufWriter::checkedBytes(const std::string& name, GgmlType type, const std::vector<int64_t>& dims)
{
    if (dims.empty() || dims.size() > 4)
        throw std::invalid_argument("GgufWriter: tensor '" + name + "' needs 1 to 4 dimensions");
    int64_t rows = 1;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] <= 0)
            throw std::invalid_argument("GgufWriter: tensor '" + name + "' has a non-positive dimension");
        if (i > 0)
            rows *= dims[i];
    }
    const TypeTraits& traits = traitsOf(type);
    if (dims[0] % traits.blockSize != 0)
        throw std::invalid_argument("GgufWriter: tensor '" + name + "' first dimension is not a multiple of " +
                                    std::to_string(traits.blockSize));
    return rowBytes(type, dims[0]) * static_cast<std::size_t>(rows);
}

void GgufWriter::addTensor(std::string name, GgmlType type, std::vector<int64_t> dims, const void* data,
                           std::size_t nbytes)
{
    const std::size_t expected = checkedBytes(name, type, dims);
    if (nbytes != expected)
        throw std::invalid_argument("GgufWriter: tensor '" + name + "' takes " + std::to_string(expected) +
                                    " bytes, got " + std::to_string(nbytes));
    const auto* bytes = static_cast<const uint8_t*>(data);
    tensors_.push_back({std::move(name), type, std::move(dims), std::vector<uint8_t>(bytes, bytes + nbytes), nbytes, {}});
}

void GgufWriter::addTensor(std::string name, GgmlType type, std::vector<int64_t> dims, TensorFill fill)
{
    const std::size_t nbytes = checkedBytes(name, type, dims);
    tensors_.push_back({std::move(name), type, std::move(dims), {}, nbytes, std::move(fill)});
}

void GgufWriter::setAlignment(uint32_t alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        throw std::invalid_argument("GgufWriter: alignment must be a power of two");
    alignment_ = alignment;
    if (alignment != 32)
        setU32("general.alignment", alignment);
}

std::vector<uint8_t> GgufWriter::header() const
{
    std::vector<uint8_t> out;
    append<uint32_t>(out, 0x46554747);  // "GGUF"
    append<uint32_t>(out, 3);
    append<uint64_t>(out, tensors_.size());
    append<uint64_t>(out, entries_.size());
    for (const Entry& e : entries_) {
        appendString(out, e.key);
        append<uint32_t>(out, static_cast<uint32_t>(e.type));
        out.insert(out.end(), e.encoded.begin(), e.encoded.end());
    }
    uint64_t offset = 0;
    for (const Tensor& t : tensors_) {
        appendString(out, t.name);
        append<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
        for (int64_t d : t.dims)
            append<uint64_t>(out, static_cast<uint64_t>(d));
        append<uint32_t>(out, static_cast<uint32_t>(t.type));
        append<uint64_t>(out, offset);
        offset += paddedSize(t.nbytes, alignment_);
    }
    padTo(out, alignment_);
    return out;
}

std::vector<uint8_t> GgufWriter::serialize() const
{
    std::vector<uint8_t> out = header();
    for (const Tensor& t : tensors_) {
        if (t.fill) {
            const std::size_t at = out.size();
            out.resize(at + t.nbytes);
            t.fill(out.data() + at, t.nbytes);
        } else {
            out.insert(out.end(), t.data.begin(), t.data.end());
        }
        padTo(out, alignment_);
    }
    return out;
}

void GgufWriter::write(const std::string& path) const
{
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f)
        throw GgufError(path + ": cannot create: " + std::strerror(errno));
    // Tensor by tensor, so that only one filled tensor is in memory at a time.
    bool written = true;
    auto put = [&](const uint8_t* bytes, std::size_t n) {
        written = written && std::fwrite(bytes, 1, n, f) == n;
    };
    const std::vector<uint8_t> head = header();
    put(head.data(), head.size());
    std::vector<uint8_t> buffer;
    const std::vector<uint8_t> padding(alignment_, 0);
    for (const Tensor& t : tensors_) {
        if (t.fill) {
            buffer.assign(t.nbytes, 0);
            t.fill(buffer.data(), t.nbytes);
            put(buffer.data(), t.nbytes);
        } else {
            put(t.data.data(), t.data.size());
        }
        put(padding.data(), paddedSize(t.nbytes, alignment_) - t.nbytes);
    }
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed)
        throw GgufError(path + ": write failed");
}

} // namespace folio
