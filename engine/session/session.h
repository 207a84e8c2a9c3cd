// One conversation with a model: its tokens, its KV cache and the scratch memory
// of the forward pass. Not thread-safe: one thread drives a session (the app's
// worker); cancellation is an atomic flag the caller may set from any thread.
#pragma once

#include "engine/attention/attention.h"
#include "engine/session/context_options.h"
#include "engine/attention/kv_cache.h"
#include "engine/model/forward.h"
#include "engine/model/model.h"
#include "engine/kernels/thread_pool.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <stdexcept>
#include <utility>
#include <vector>

namespace folio {

class Sampler;
class StateReader;
class StateWriter;

struct SessionOptions {
    int contextLength = 4096;   // KV cache capacity in tokens (<= 0: the model's training context)
    int threads = 0;            // <= 0: all hardware threads
    KvType kvType = KvType::F16;
    int batchSize = 512;        // prefill micro-batch: bounds scratch memory
    RopeOverrides rope;         // unset fields: the model's own RoPE
    DcaOptions dca;             // Dual Chunk Attention when dca.enabled
    // Sliding-window layers (gemma3) keep a KV ring of window + batch + this many
    // positions: how far truncate() (regenerate) can go back (kv_cache.h).
    int ringSlack = KvCache::kRingSlack;
};

// The context holds no room for the tokens asked for; nothing was processed.
class ContextFullError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class GenerationStop { EndOfGeneration, MaxTokens, Callback, Cancelled, ContextFull };

class Session {
public:
    Session(std::shared_ptr<const Model> model, SessionOptions options);

    // Appends tokens to the context in micro-batches; progress(done, total) after
    // each. If *cancel becomes true it stops between micro-batches and keeps what
    // was done (position() tells how far); a micro-batch in flight stops between
    // layers and is dropped whole. Throws ContextFullError, before any
    // work, if the tokens do not fit.
    void prefill(const std::vector<int32_t>& tokens,
                 const std::function<void(int done, int total)>& progress = {},
                 const std::atomic<bool>* cancel = nullptr);

    // Like prefill, and also returns the logits of the last `rows` of these tokens
    // (all of them when rows <= 0 or rows > tokens.size()), token-major: rows x vocab.
    std::vector<float> prefillWithLogits(const std::vector<int32_t>& tokens, int rows,
                                         const std::function<void(int done, int total)>& progress = {},
                                         const std::atomic<bool>* cancel = nullptr);

    // Appends one token. Throws ContextFullError when the context is full.
    void decode(int32_t token);

    // Logits of the last processed token (vocabulary size), empty before the first
    // token and after truncate().
    const std::vector<float>& logits() const { return logits_; }

    int position() const { return static_cast<int>(tokens_.size()); }
    const std::vector<int32_t>& tokens() const { return tokens_; }
    int contextLength() const { return options_.contextLength; }
    const SessionOptions& options() const { return options_; }
    const Model& model() const { return *model_; }
    const KvCache& cache() const { return cache_; }
    const RopeConfig& ropeConfig() const { return rope_; }          // as resolved for this session
    const std::optional<DcaConfig>& dcaConfig() const { return dca_; }
    std::string extensionDescription() const { return describeExtension(rope_, dca_); }
    // Decode steps (generate, decode) report their attention per key range to
    // `observer` (evidence pages); nullptr stops it. The observer must outlive its use.
    void setAttentionObserver(AttentionObserver* observer) { attention_->setObserver(observer); }

    // Drops tokens >= n (regenerate, undo a cancelled prefill). The logits are
    // cleared: process at least one token (e.g. re-decode token n-1 after
    // truncate(n-1)) before sampling again. A model with sliding-window layers whose
    // KV rings no longer reach back to n (more than ringSlack positions beyond a
    // batch) reads tokens [0, n) again here.
    void truncate(int n);

    // The whole state (tokens, positions, logits, the filled KV slots and the options
    // that shaped them) as a stream of bounded pieces, and back: after loadState the
    // next logits are those the saved session would give, bit for bit. loadState
    // throws SessionStateError when the state was made by another model or with other
    // options (naming each difference), does not fit the context, or is truncated or
    // corrupt. Format and failure rules: engine/session_state.h. pieceBytes bounds
    // each piece handed to `out` (0: kStatePieceBytes, 4 MiB; at least 64).
    // fromPosition > 0 writes a delta: only the tokens and KV rows after the first
    // fromPosition, to be loaded into a session already holding that same prefix.
    void saveState(StateWriter& out, std::size_t pieceBytes = 0, int fromPosition = 0) const;
    void loadState(StateReader& in);
    // (name, value) pairs, in a fixed order, of everything that shaped the cache.
    std::vector<std::pair<std::string, std::string>> shapingOptions() const;

    // Samples and appends up to maxTokens tokens. Each token is handed to onToken
    // and decoded into the context; onToken returning false stops after that token.
    // An end-of-generation token stops without being emitted or appended. A full
    // context stops with ContextFull (nothing is dropped).
    GenerationStop generate(Sampler& sampler, int maxTokens, const std::function<bool(int32_t)>& onToken,
                            const std::atomic<bool>* cancel = nullptr);

private:
    void checkRoom(int count) const;  // throws ContextFullError
    // Runs a micro-batch; `allLogits` (count x vocab) receives every row when given.
    // Returns false, having kept nothing of the batch, when *cancel became true.
    bool runBatch(const int32_t* tokens, int count, bool wantLogits, float* allLogits = nullptr,
                  const std::atomic<bool>* cancel = nullptr);

    std::shared_ptr<const Model> model_;
    SessionOptions options_;
    ThreadPool pool_;
    KvCache cache_;
    ForwardScratch scratch_;
    RopeConfig rope_;
    std::optional<DcaConfig> dca_;
    std::unique_ptr<AttentionMethod> attention_;
    std::vector<int32_t> tokens_;
    std::vector<int32_t> positions_;
    std::vector<float> logits_;
};

} // namespace folio
