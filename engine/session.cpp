#include "engine/session.h"

#include "engine/sampler.h"

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

AttentionShape attentionShape(const ModelHyperParams& p)
{
    return AttentionShape{p.headCount, p.headCountKv, p.headDim, 1.0f / std::sqrt(static_cast<float>(p.headDim))};
}

} // namespace

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : model_(std::move(model)), options_(resolved(options, *model_)), pool_(options_.threads),
      cache_(model_->params().blockCount, model_->params().headCountKv, model_->params().headDim,
             options_.contextLength, options_.kvType),
      scratch_(model_->params(), options_.batchSize)
{
    attention_ = std::make_unique<StandardAttention>(attentionShape(model_->params()), model_->ropeConfig(),
                                                     pool_.size());
}

void Session::runBatch(const int32_t* tokens, int count, bool wantLogits)
{
    const int first = position();
    positions_.resize(count);
    for (int t = 0; t < count; ++t)
        positions_[t] = first + t;
    logits_.resize(model_->params().vocabSize);
    forwardBatch(*model_, *attention_, cache_, scratch_, tokens, positions_.data(), count, first,
                 wantLogits ? LogitsMode::Last : LogitsMode::None, logits_.data(), pool_);
    tokens_.insert(tokens_.end(), tokens, tokens + count);
}

void Session::prefill(const std::vector<int32_t>& tokens, const std::function<void(int, int)>& progress,
                      const std::atomic<bool>* cancel)
{
    const int total = static_cast<int>(tokens.size());
    if (position() + static_cast<int64_t>(total) > options_.contextLength)
        throw ContextFullError("context full: " + std::to_string(position()) + " tokens + "
                               + std::to_string(total) + " new exceed the context of "
                               + std::to_string(options_.contextLength));
    for (int done = 0; done < total;) {
        if (cancel && cancel->load())
            return;
        const int count = std::min(options_.batchSize, total - done);
        // Only the last micro-batch needs logits; earlier ones skip the vocabulary product.
        runBatch(tokens.data() + done, count, done + count == total);
        done += count;
        if (progress)
            progress(done, total);
    }
}

void Session::decode(int32_t token)
{
    if (position() >= options_.contextLength)
        throw ContextFullError("context full: all " + std::to_string(options_.contextLength)
                               + " positions are used");
    runBatch(&token, 1, true);
}

void Session::truncate(int n)
{
    if (n < 0 || n > position())
        throw std::out_of_range("truncate to " + std::to_string(n) + " tokens of " + std::to_string(position()));
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
