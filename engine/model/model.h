// A loaded decoder-only model: its family description (family.h), hyper-parameters
// read from GGUF metadata and the weights, which point into the file's mapping (the
// GgufFile lives as long as the Model). Families: see supportedArchitectures().
// Every tensor is checked for presence, type and shape at load, so the forward pass
// never meets a malformed weight.
#pragma once

#include "engine/gguf/gguf.h"
#include "engine/attention/kv_cache.h"
#include "engine/attention/rope.h"
#include "engine/model/family.h"
#include "engine/tokenizer/tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace folio {

class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ModelHyperParams {
    std::string architecture;  // general.architecture (the family is Model::family())
    int contextLength = 0;     // training context (n_ctx_train)
    int embeddingLength = 0;
    int blockCount = 0;
    int feedForwardLength = 0;
    int headCount = 0;
    int headCountKv = 0;
    int headDim = 0;           // attention.key_length (= value length)
    int ropeDims = 0;          // rotated components per head
    float ropeFreqBase = 10000.0f;
    // The rotation the model was trained with (notes/dca.md §9.1): rope.scaling.*
    std::string ropeScalingType = "none";  // "none", "linear" or "yarn"
    float ropeScalingFactor = 1.0f;        // s (freq_scale = 1/s); 1 when absent
    float ropeAttnFactor = 1.0f;           // rope.scaling.attn_factor
    int ropeOriginalContext = 0;           // rope.scaling.original_context_length (0: contextLength)
    int dcaChunkSize = 0, dcaLocalWindow = 0, dcaOriginalContext = 0;  // {arch}.dca.* (proposal; 0 absent)
    float dcaTemperature = 0.0f;  // {arch}.dca.temperature (proposal): the k of notes/dca.md §7; 0 absent
    bool ropeNeox = false;     // the family's: pairs (i, i + d/2) or (2i, 2i + 1)
    float rmsEpsilon = 1e-5f;
    int vocabSize = 0;         // rows of token_embd
};

// A 2-D weight as the matrix kernels take it: `rows` rows of `cols` elements,
// rowBytes(type, cols) bytes each (GGUF dims are {cols, rows}).
struct WeightMatrix {
    std::string name;
    GgmlType type = GgmlType::F32;
    const uint8_t* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
};

// A 3-D weight of a mixture of experts: `experts` matrices of rows x cols, one after
// another, expert e's rows at data + e * expertBytes (GGUF dims {cols, rows, experts}).
struct ExpertMatrices {
    std::string name;
    GgmlType type = GgmlType::F32;
    const uint8_t* data = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    int64_t experts = 0;
    std::size_t expertBytes = 0;  // rows * rowBytes(type, cols)
    const uint8_t* expert(int e) const { return data + static_cast<std::size_t>(e) * expertBytes; }
};

struct LayerWeights {
    std::vector<float> attnNorm, ffnNorm;
    WeightMatrix wq, wk, wv, wo;
    WeightMatrix wqkv;  // FamilyDescription::fusedQkv: rows q | k | v (wq, wk, wv then empty)
    std::vector<float> bq, bk, bv;  // FamilyDescription::qkvBias; empty otherwise
    std::vector<float> qNorm, kNorm;  // FamilyDescription::qkNorm: head-dim RMSNorm weights
    std::vector<float> postAttnNorm, postFfnNorm;  // FamilyDescription::postNorms
    WeightMatrix gate, up, down;  // fusedGateUp: `up` holds the gate rows then the up rows, no `gate`
    // FamilyDescription::mixtureOfExperts (gate, up and down then empty): the router
    // (ffn_gate_inp, one row of embd per expert) and the experts' matrices.
    WeightMatrix router;
    ExpertMatrices gateExperts, upExperts, downExperts;
};

struct MemoryEstimate {
    std::size_t weightBytes = 0;   // mapped from the file
    std::size_t kvBytes = 0;       // keys + values for the whole context
    std::size_t scratchBytes = 0;  // activations of one micro-batch, logits, attention tiles
    std::size_t total() const { return weightBytes + kvBytes + scratchBytes; }
};

class Model {
public:
    // Throws ModelError naming the file and the key or tensor at fault.
    static std::shared_ptr<const Model> load(const std::string& path);

    const std::string& path() const { return file_.path(); }
    const GgufFile& file() const { return file_; }
    const ModelHyperParams& params() const { return params_; }
    const FamilyDescription& family() const { return family_; }

    const WeightMatrix& tokenEmbedding() const { return tokenEmbedding_; }
    const WeightMatrix& output() const { return output_; }  // = tokenEmbedding() when tied
    bool tiedOutput() const { return tiedOutput_; }
    const std::vector<float>& outputNorm() const { return outputNorm_; }
    const LayerWeights& layer(int index) const { return layers_.at(index); }
    // RoPE frequency factors: rope_freqs (Llama 3.1) or, for LongRoPE files, the short
    // factors up to the original context and the long ones beyond it. The overload
    // without a length answers for the trained context. Empty if the file has none.
    const std::vector<float>& ropeFreqFactors() const { return ropeFreqFactors(params_.contextLength); }
    const std::vector<float>& ropeFreqFactors(int contextLength) const;
    bool longRope() const { return !ropeFactorsLong_.empty(); }

    // The model's own rotation, as trained (its rope.scaling.* applied; no user override):
    // that of the global layers.
    RopeConfig ropeConfig() const;
    // The rotation of the sliding-window layers (FamilyDescription::slidingWindow):
    // their own base, no scaling, no factors. Context extension never touches it.
    RopeConfig localRopeConfig() const;

    // The factor on attention logits: 1 / sqrt(queryPreAttnScalar or the head dim).
    float attentionScale() const;

    // The model's tokenizer, built from the same file at load.
    const Tokenizer& tokenizer() const { return *tokenizer_; }

    // Token ids that end a reply (the tokenizer's: eos, eot, eom, <|im_end|>, ...).
    const std::vector<int32_t>& endOfGenerationTokens() const { return endTokens_; }
    bool isEndOfGeneration(int32_t token) const;

    // The identity of the weights, for saved session states: 16 hex digits hashed over
    // the file size, the architecture and hyper-parameters, the whole GGUF header
    // (every metadata value; tensor names, types, shapes and offsets), and a sample of
    // the tensor bytes (the first and last KiB of every tensor and 64 windows of 4 KiB
    // spread over the data section). A full hash would read gigabytes at every load;
    // any re-quantization or fine-tune changes every sampled window. Not the path: a
    // renamed or copied file is the same model.
    const std::string& fingerprint() const { return fingerprint_; }

    // Scratch assumes micro-batches of batchSize tokens (as Session uses). The KV cache
    // of a sliding-window layer is a ring of its window + a batch + ringSlack (kv_cache.h).
    MemoryEstimate memoryEstimate(int contextTokens, KvType kvType, int batchSize = 512,
                                  int ringSlack = KvCache::kRingSlack) const;

    // Per layer, the window its KV cache ring serves (0: every position kept), for KvCache.
    std::vector<int> kvRingWindows() const;

    // Elements of every tensor, and of those one token reads (the same for a dense
    // model; a mixture of experts reads only its chosen experts).
    int64_t totalParameters() const;
    int64_t activeParameters() const;

    // Which attention each layer runs, in words: "22 global", or for interleaved
    // local and global layers "22 local (window 512) + 4 global".
    std::string layerPattern() const;

    // A few lines for a metadata viewer: family, parameters, layer pattern, trained
    // context, shape, RoPE, types, sizes.
    std::string describe() const;

    explicit Model(GgufFile file);  // use load()

private:
    void readHyperParams();
    void readRopeScaling();
    void readWeights();
    void readLongRope();
    void readTokenizer();
    void computeFingerprint();
    [[noreturn]] void fail(const std::string& what) const;
    const GgufTensor& requireTensor(const std::string& name, std::vector<int64_t> dims) const;
    WeightMatrix matrix(const std::string& name, int64_t cols, int64_t rows) const;
    ExpertMatrices expertMatrices(const std::string& name, int64_t cols, int64_t rows) const;
    void readExperts(const std::string& prefix, LayerWeights& layer) const;
    std::vector<float> vectorTensor(const std::string& name, int64_t length) const;

    GgufFile file_;
    FamilyDescription family_;
    ModelHyperParams params_;
    WeightMatrix tokenEmbedding_, output_;
    bool tiedOutput_ = false;
    std::vector<float> outputNorm_;
    std::vector<LayerWeights> layers_;
    std::vector<float> ropeFreqFactors_;
    std::vector<float> ropeFactorsShort_, ropeFactorsLong_;  // LongRoPE (phi3)
    std::optional<Tokenizer> tokenizer_;
    std::vector<int32_t> endTokens_;
    std::string fingerprint_;
};

} // namespace folio
