#include "engine/session/session.h"

#include "engine/session/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace folio {

namespace {

SessionOptions resolved(SessionOptions options, const Model& model)
{
    if (options.contextLength <= 0)
        options.contextLength = model.params().contextLength;
    options.batchSize = std::clamp(options.batchSize, 1, options.contextLength);
    return options;
}

} // namespace

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : model_(std::move(model)), options_(resolved(options, *model_)), pool_(options_.threads),
      cache_(model_->params().blockCount, model_->params().headCountKv, model_->params().headDim,
             options_.contextLength, options_.kvType, model_->kvRingWindows(), options_.batchSize,
             options_.ringSlack),
      scratch_(*model_, options_.batchSize), rope_(resolveRope(*model_, options_.rope, options_.contextLength))
{
    if (options_.dca.enabled)
        dca_ = resolveDca(*model_, options_.dca);
    attention_ = makeModelAttention(*model_, rope_, dca_, pool_.size());
}

bool Session::runBatch(const int32_t* tokens, int count, bool wantLogits, float* allLogits,
                       const std::atomic<bool>* cancel)
{
    const int first = position();
    const int vocab = model_->params().vocabSize;
    positions_.resize(count);
    for (int t = 0; t < count; ++t)
        positions_[t] = first + t;
    logits_.resize(vocab);
    const LogitsMode mode = allLogits ? LogitsMode::All : wantLogits ? LogitsMode::Last : LogitsMode::None;
    if (!forwardBatch(*model_, *attention_, cache_, scratch_, tokens, positions_.data(), count, first, mode,
                      allLogits ? allLogits : logits_.data(), pool_, cancel))
        return false;  // cancelled between layers: nothing of this batch was kept
    if (allLogits)
        std::copy_n(allLogits + static_cast<std::size_t>(count - 1) * vocab, vocab, logits_.begin());
    tokens_.insert(tokens_.end(), tokens, tokens + count);
    return true;
}

void Session::checkRoom(int count) const
{
    if (position() + static_cast<int64_t>(count) > options_.contextLength)
        throw ContextFullError("context full: " + std::to_string(position()) + " tokens + "
                               + std::to_string(count) + " new exceed the context of "
                               + std::to_string(options_.contextLength));
}

void Session::prefill(const std::vector<int32_t>& tokens, const std::function<void(int, int)>& progress,
                      const std::atomic<bool>* cancel)
{
    const int total = static_cast<int>(tokens.size());
    checkRoom(total);
    for (int done = 0; done < total;) {
        if (cancel && cancel->load())
            return;
        const int count = std::min(options_.batchSize, total - done);
        // Only the last micro-batch needs logits; earlier ones skip the vocabulary product.
        if (!runBatch(tokens.data() + done, count, done + count == total, nullptr, cancel))
            return;
        done += count;
        if (progress)
            progress(done, total);
    }
}

std::vector<float> Session::prefillWithLogits(const std::vector<int32_t>& tokens, int rows,
                                              const std::function<void(int, int)>& progress,
                                              const std::atomic<bool>* cancel)
{
    const int total = static_cast<int>(tokens.size());
    checkRoom(total);
    if (rows <= 0 || rows > total)
        rows = total;
    const std::size_t vocab = static_cast<std::size_t>(model_->params().vocabSize);
    std::vector<float> result(static_cast<std::size_t>(rows) * vocab);
    std::vector<float> batchLogits;
    const int firstRow = total - rows;  // index (within tokens) of the first row wanted
    for (int done = 0; done < total;) {
        if (cancel && cancel->load())
            break;
        const int count = std::min(options_.batchSize, total - done);
        if (done + count > firstRow) {
            batchLogits.resize(static_cast<std::size_t>(count) * vocab);
            if (!runBatch(tokens.data() + done, count, true, batchLogits.data(), cancel))
                break;
            for (int t = std::max(done, firstRow); t < done + count; ++t)
                std::copy_n(batchLogits.data() + static_cast<std::size_t>(t - done) * vocab, vocab,
                            result.data() + static_cast<std::size_t>(t - firstRow) * vocab);
        } else if (!runBatch(tokens.data() + done, count, false, nullptr, cancel)) {
            break;
        }
        done += count;
        if (progress)
            progress(done, total);
    }
    return result;
}

void Session::decode(int32_t token)
{
    checkRoom(1);
    runBatch(&token, 1, true);
}

void Session::truncate(int n)
{
    if (n < 0 || n > position())
        throw std::out_of_range("truncate to " + std::to_string(n) + " tokens of " + std::to_string(position()));
    if (!cache_.canTruncate(n)) {
        // The sliding-window layers' rings (kv_cache.h) no longer hold the keys just
        // before n, and those keys depend on every earlier position through the global
        // layers: read tokens [0, n) again. Costly, and only when going back further
        // than options().ringSlack positions beyond a batch.
        const std::vector<int32_t> kept(tokens_.begin(), tokens_.begin() + n);
        cache_.truncate(0);
        tokens_.clear();
        prefill(kept);
        logits_.clear();
        return;
    }
    cache_.truncate(n);
    tokens_.resize(n);
    logits_.clear();
}

GenerationStop Session::generate(Sampler& sampler, int maxTokens, const std::function<bool(int32_t)>& onToken,
                                 const std::atomic<bool>* cancel)
{
    if (logits_.empty())
        throw std::logic_error("generate: no logits; prefill or decode a token first");
    for (int i = 0; i < maxTokens; ++i) {
        if (cancel && cancel->load())
            return GenerationStop::Cancelled;
        const int32_t token = sampler.sample(logits_.data(), model_->params().vocabSize, tokens_);
        if (model_->isEndOfGeneration(token))
            return GenerationStop::EndOfGeneration;
        if (position() >= options_.contextLength)
            return GenerationStop::ContextFull;
        const bool goOn = onToken ? onToken(token) : true;
        decode(token);  // every emitted token is in the context, so a conversation can continue
        if (!goOn)
            return GenerationStop::Callback;
    }
    return GenerationStop::MaxTokens;
}

} // namespace folio
