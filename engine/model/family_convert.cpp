#include "engine/model/family_convert.h"

#include "engine/gguf/gguf.h"
#include "engine/gguf/gguf_writer.h"
#include "engine/gguf/tensor_types.h"

#include <cstring>
#include <stdexcept>
#include <vector>

namespace folio {
namespace {

std::invalid_argument refuse(const std::string& what) { return std::invalid_argument("convert: " + what); }

int64_t requireInt(const GgufFile& file, const std::string& key)
{
    const std::optional<int64_t> value = file.getInt(key);
    if (!value || *value <= 0)
        throw refuse("missing or invalid key '" + key + "'");
    return *value;
}

template <typename T>
void appendScalar(std::vector<uint8_t>& out, T value)
{
    const std::size_t at = out.size();
    out.resize(at + sizeof value);
    std::memcpy(out.data() + at, &value, sizeof value);
}

// An integer array of any element type, re-encoded as it was (token types are i32;
// other files may use u32 or i64).
std::vector<uint8_t> encodeIntArray(GgufValueType element, const std::vector<int64_t>& values)
{
    std::vector<uint8_t> out;
    appendScalar(out, static_cast<uint32_t>(element));
    appendScalar(out, static_cast<uint64_t>(values.size()));
    for (int64_t v : values) {
        switch (element) {
        case GgufValueType::UInt8: appendScalar(out, static_cast<uint8_t>(v)); break;
        case GgufValueType::Int8: appendScalar(out, static_cast<int8_t>(v)); break;
        case GgufValueType::UInt16: appendScalar(out, static_cast<uint16_t>(v)); break;
        case GgufValueType::Int16: appendScalar(out, static_cast<int16_t>(v)); break;
        case GgufValueType::UInt32: appendScalar(out, static_cast<uint32_t>(v)); break;
        case GgufValueType::Int32: appendScalar(out, static_cast<int32_t>(v)); break;
        case GgufValueType::UInt64: appendScalar(out, static_cast<uint64_t>(v)); break;
        case GgufValueType::Int64: appendScalar(out, static_cast<int64_t>(v)); break;
        default: throw refuse("unexpected array element type");
        }
    }
    return out;
}

void copyKey(const GgufFile& in, const std::string& key, const std::string& as, GgufWriter& out)
{
    switch (in.typeOf(key)) {
    case GgufValueType::UInt8: out.setU8(as, static_cast<uint8_t>(*in.getInt(key))); break;
    case GgufValueType::Int8: out.setI8(as, static_cast<int8_t>(*in.getInt(key))); break;
    case GgufValueType::UInt16: out.setU16(as, static_cast<uint16_t>(*in.getInt(key))); break;
    case GgufValueType::Int16: out.setI16(as, static_cast<int16_t>(*in.getInt(key))); break;
    case GgufValueType::UInt32: out.setU32(as, static_cast<uint32_t>(*in.getInt(key))); break;
    case GgufValueType::Int32: out.setI32(as, static_cast<int32_t>(*in.getInt(key))); break;
    case GgufValueType::UInt64: out.setU64(as, static_cast<uint64_t>(*in.getInt(key))); break;
    case GgufValueType::Int64: out.setI64(as, *in.getInt(key)); break;
    case GgufValueType::Float32: out.setF32(as, static_cast<float>(*in.getFloat(key))); break;
    case GgufValueType::Float64: out.setF64(as, *in.getFloat(key)); break;
    case GgufValueType::Bool: out.setBool(as, *in.getBool(key)); break;
    case GgufValueType::String: out.setString(as, *in.getString(key)); break;
    case GgufValueType::Array: {
        const GgufValueType element = in.arrayElementType(key);
        if (element == GgufValueType::String)
            out.setStringArray(as, in.getStringArray(key));
        else if (element == GgufValueType::Float32)
            out.setF32Array(as, in.getFloatArray(key));
        else if (element == GgufValueType::Float64 || element == GgufValueType::Bool || element == GgufValueType::Array)
            throw refuse("key '" + key + "': arrays of this element type are not copied");
        else
            out.setRaw(as, GgufValueType::Array, encodeIntArray(element, in.getIntArray(key)));
        break;
    }
    default: throw refuse("key '" + key + "' has an unknown type");
    }
}

const GgufTensor& requireTensor(const GgufFile& file, const std::string& name)
{
    const GgufTensor* t = file.findTensor(name);
    if (!t)
        throw refuse("missing tensor '" + name + "'");
    return *t;
}

// The rows of a matrix, permuted within each head from the normal to the NeoX order.
std::vector<uint8_t> neoxRows(const GgufTensor& t, int64_t headDim, int64_t ropeDims)
{
    const int64_t rows = t.rows();
    if (t.dims.size() != 2 || rows % headDim != 0)
        throw refuse("tensor '" + t.name + "' is not whole heads of " + std::to_string(headDim) + " rows");
    const std::size_t rowSize = t.nbytes / static_cast<std::size_t>(rows);
    std::vector<uint8_t> out(t.nbytes);
    for (int64_t head = 0; head < rows / headDim; ++head)
        for (int64_t i = 0; i < headDim; ++i) {
            int64_t from = i;  // dimensions past the rotated ones stay where they are
            if (i < ropeDims)
                from = i < ropeDims / 2 ? 2 * i : 2 * (i - ropeDims / 2) + 1;
            std::memcpy(out.data() + static_cast<std::size_t>(head * headDim + i) * rowSize,
                        t.data + static_cast<std::size_t>(head * headDim + from) * rowSize, rowSize);
        }
    return out;
}

std::vector<uint8_t> bytesOf(const GgufTensor& t) { return {t.data, t.data + t.nbytes}; }

} // namespace

void convertLlamaToFamily(const GgufFile& llama, const std::string& architecture, GgufWriter& out)
{
    if (llama.architecture() != "llama")
        throw refuse("the source must be a llama file, not '" + llama.architecture() + "'");
    if (architecture != "qwen2" && architecture != "phi3")
        throw refuse("'" + architecture + "' cannot be made exactly from a llama (qwen2 and phi3 can)");
    if (llama.findTensor("rope_freqs.weight"))
        throw refuse("rope_freqs.weight (Llama 3.1 frequency factors) has no equivalent in " + architecture);
    if (const std::optional<std::string> type = llama.getString("llama.rope.scaling.type"); type && *type != "none")
        throw refuse("RoPE scaling '" + *type + "' is not carried over");

    const int64_t embd = requireInt(llama, "llama.embedding_length");
    const int64_t heads = requireInt(llama, "llama.attention.head_count");
    const int64_t kvHeads = llama.getInt("llama.attention.head_count_kv").value_or(heads);
    const int64_t headDim = llama.getInt("llama.attention.key_length").value_or(embd / heads);
    const int64_t ropeDims = llama.getInt("llama.rope.dimension_count").value_or(headDim);
    const int64_t layers = requireInt(llama, "llama.block_count");
    if (ropeDims <= 0 || ropeDims > headDim || ropeDims % 2 != 0)
        throw refuse("invalid rope.dimension_count " + std::to_string(ropeDims));

    const std::string prefix = "llama.";
    for (const std::string& key : llama.keys()) {
        if (key == "general.architecture" || key == "general.alignment")
            continue;
        const std::string as = key.rfind(prefix, 0) == 0 ? architecture + "." + key.substr(prefix.size()) : key;
        copyKey(llama, key, as, out);
    }
    out.setString("general.architecture", architecture);
    if (llama.alignment() != 32)
        out.setAlignment(static_cast<uint32_t>(llama.alignment()));

    auto copy = [&](const GgufTensor& t) { out.addTensor(t.name, t.type, t.dims, t.data, t.nbytes); };
    for (const GgufTensor& t : llama.tensors())
        if (t.name.rfind("blk.", 0) != 0)
            copy(t);
    for (int64_t l = 0; l < layers; ++l) {
        const std::string blk = "blk." + std::to_string(l) + ".";
        const GgufTensor& q = requireTensor(llama, blk + "attn_q.weight");
        const GgufTensor& k = requireTensor(llama, blk + "attn_k.weight");
        const GgufTensor& v = requireTensor(llama, blk + "attn_v.weight");
        const std::vector<uint8_t> qRows = neoxRows(q, headDim, ropeDims);
        const std::vector<uint8_t> kRows = neoxRows(k, headDim, ropeDims);
        if (q.rows() != heads * headDim || k.rows() != kvHeads * headDim || v.rows() != kvHeads * headDim)
            throw refuse("layer " + std::to_string(l) + ": q/k/v rows disagree with the head counts");
        for (const GgufTensor& t : llama.tensors()) {
            if (t.name.rfind(blk, 0) != 0)
                continue;
            const std::string part = t.name.substr(blk.size());
            if (part == "attn_q.weight" || part == "attn_k.weight" || part == "attn_v.weight" ||
                part == "ffn_gate.weight" || part == "ffn_up.weight")
                continue;  // written below in the family's layout
            copy(t);
        }
        if (architecture == "qwen2") {
            out.addTensor(q.name, q.type, q.dims, qRows.data(), qRows.size());
            out.addTensor(k.name, k.type, k.dims, kRows.data(), kRows.size());
            copy(v);
            const std::vector<float> qZero(static_cast<std::size_t>(q.rows())), kvZero(static_cast<std::size_t>(k.rows()));
            out.addTensor(blk + "attn_q.bias", GgmlType::F32, {q.rows()}, qZero.data(), qZero.size() * sizeof(float));
            out.addTensor(blk + "attn_k.bias", GgmlType::F32, {k.rows()}, kvZero.data(), kvZero.size() * sizeof(float));
            out.addTensor(blk + "attn_v.bias", GgmlType::F32, {v.rows()}, kvZero.data(), kvZero.size() * sizeof(float));
            copy(requireTensor(llama, blk + "ffn_gate.weight"));
            copy(requireTensor(llama, blk + "ffn_up.weight"));
        } else {
            if (q.type != k.type || q.type != v.type)
                throw refuse("layer " + std::to_string(l) + ": q, k and v differ in type and cannot be fused");
            std::vector<uint8_t> qkv = qRows;
            qkv.insert(qkv.end(), kRows.begin(), kRows.end());
            const std::vector<uint8_t> vRows = bytesOf(v);
            qkv.insert(qkv.end(), vRows.begin(), vRows.end());
            out.addTensor(blk + "attn_qkv.weight", q.type, {embd, q.rows() + k.rows() + v.rows()}, qkv.data(),
                          qkv.size());
            const GgufTensor& gate = requireTensor(llama, blk + "ffn_gate.weight");
            const GgufTensor& up = requireTensor(llama, blk + "ffn_up.weight");
            if (gate.type != up.type || gate.dims != up.dims)
                throw refuse("layer " + std::to_string(l) + ": ffn_gate and ffn_up differ and cannot be fused");
            std::vector<uint8_t> gateUp = bytesOf(gate);
            const std::vector<uint8_t> upRows = bytesOf(up);
            gateUp.insert(gateUp.end(), upRows.begin(), upRows.end());
            out.addTensor(blk + "ffn_up.weight", gate.type, {gate.dims[0], 2 * gate.rows()}, gateUp.data(),
                          gateUp.size());
        }
    }
}

} // namespace folio
