#include "app/server/engine_worker.h"

#include "engine/session/stop_strings.h"
#include "engine/tokenizer/tokenizer.h"

#include <algorithm>

namespace folio::server {

EngineWorker::EngineWorker(std::shared_ptr<const Model> model, SessionPlan plan, int queueCapacity,
                           PromptCacheOptions cache)
    : model_(std::move(model)), plan_(std::move(plan)), capacity_(std::max(0, queueCapacity)),
      cache_(std::move(cache)), thread_([this] { loop(); })
{
}

EngineWorker::~EngineWorker()
{
    shutdown();
    thread_.join();
}

void EngineWorker::shutdown()
{
    std::deque<std::shared_ptr<GenerationJob>> waiting;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        waiting.swap(queue_);
        if (running_)
            running_->cancel();
    }
    wake_.notify_all();
    for (const auto& job : waiting) {
        GenerationResult r;
        r.finish = FinishReason::Cancelled;
        job->finish(r);
    }
}

std::shared_ptr<GenerationJob> EngineWorker::submit(GenerationRequest request)
{
    auto job = std::make_shared<GenerationJob>(std::move(request));
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || static_cast<int>(queue_.size()) >= capacity_ + (running_ ? 0 : 1))
            return nullptr;
        queue_.push_back(job);
    }
    wake_.notify_all();
    return job;
}

EngineWorker::Stats EngineWorker::stats() const
{
    std::lock_guard lock(mutex_);
    Stats s = stats_;
    s.queued = static_cast<int>(queue_.size());
    s.running = running_ != nullptr;
    return s;
}

void EngineWorker::loop()
{
    for (;;) {
        std::shared_ptr<GenerationJob> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_)
                return;
            job = queue_.front();
            queue_.pop_front();
            running_ = job;
        }
        GenerationResult result;
        try {
            result = process(*job);
        } catch (const std::exception& e) {
            // The session may be half-way through a batch: start the next request afresh.
            session_.reset();
            sessionShape_ = nullptr;
            result.finish = FinishReason::Error;
            result.error = e.what();
        }
        {
            std::lock_guard lock(mutex_);
            running_.reset();
            switch (result.finish) {
            case FinishReason::Stop:
            case FinishReason::Length: ++stats_.completed; break;
            case FinishReason::Cancelled: ++stats_.cancelled; break;
            case FinishReason::Error: ++stats_.failed; break;
            }
            stats_.promptTokensReused += result.reusedPromptTokens;
            if (result.finish != FinishReason::Cancelled || result.completionTokens > 0)
                stats_.promptTokensRead += result.promptTokens - result.reusedPromptTokens;
            stats_.extension = session_ ? session_->extensionDescription() : std::string();
        }
        job->finish(result);
        // After the answer went out: the client does not wait for the disk.
        if (saveLength_ > 0 && session_ && result.finish != FinishReason::Error) {
            cache_.save(*session_, job->request().prompt, saveLength_);
            std::lock_guard lock(mutex_);
            stats_.promptCacheSaved = cache_.saved();
        }
        saveLength_ = 0;
    }
}

Session& EngineWorker::sessionFor(int tokens)
{
    const SessionOptions& shape = plan_.optionsFor(tokens);
    if (!session_ || sessionShape_ != &shape) {
        session_.reset();  // free the old cache before allocating the new one
        session_ = std::make_unique<Session>(model_, shape);
        sessionShape_ = &shape;
    }
    return *session_;
}

GenerationResult EngineWorker::process(GenerationJob& job)
{
    const GenerationRequest& r = job.request();
    GenerationResult result;
    result.promptTokens = static_cast<int>(r.prompt.size());
    if (job.cancelled()) {  // its client left while it waited
        result.finish = FinishReason::Cancelled;
        return result;
    }
    if (r.prompt.empty())
        throw std::invalid_argument("empty prompt");
    Session& session = sessionFor(static_cast<int>(r.prompt.size()) + r.reserve);
    // Keep the longest common prefix of what the session holds, but read at least
    // the prompt's last token again: its logits start the answer.
    const std::vector<int32_t>& held = session.tokens();
    const auto mismatch = std::mismatch(held.begin(), held.end(), r.prompt.begin(), r.prompt.end());
    int common = std::min(static_cast<int>(mismatch.first - held.begin()), result.promptTokens - 1);
    // The prefix the next request will share (a chat's document): from disk when this
    // session does not hold it, saved there once this request is answered.
    const int keep = std::min(r.keepPrefix, result.promptTokens - 1);
    if (cache_.enabled() && keep >= cache_.minTokens() && common < keep) {
        if (cache_.restore(session, r.prompt, keep)) {
            common = keep;
            std::lock_guard lock(mutex_);
            stats_.promptCacheRestored = cache_.restored();
        } else {
            saveLength_ = keep;
            if (session.position() == 0)
                common = 0;  // what the session held went with the failed restore
        }
    }
    session.truncate(common);
    result.reusedPromptTokens = common;
    session.prefill(std::vector<int32_t>(r.prompt.begin() + common, r.prompt.end()), {}, job.cancelFlag());
    if (job.cancelled() || session.position() < result.promptTokens) {
        result.finish = FinishReason::Cancelled;
        return result;
    }
    result.finish = generate(job, &result.completionTokens);
    return result;
}

FinishReason EngineWorker::generate(GenerationJob& job, int* completionTokens)
{
    const GenerationRequest& r = job.request();
    Session& session = *session_;
    const Tokenizer& tokenizer = model_->tokenizer();
    Sampler sampler(r.sampler);
    TokenStreamDecoder decoder(tokenizer);
    StopStringMatcher matcher(r.stop);
    const int vocab = model_->params().vocabSize;
    // What the decoder and the matcher still hold, once no stop string came.
    auto finishText = [&](FinishReason reason) {
        const StopStringMatcher::Result tail = matcher.push(decoder.flush());
        if (!job.append(tail.text + (tail.stopped ? std::string() : matcher.flush())))
            return FinishReason::Cancelled;
        return tail.stopped ? FinishReason::Stop : reason;
    };
    // Sampling here rather than Session::generate: ignore_eos goes on past end tokens.
    for (int i = 0; i < r.maxTokens; ++i) {
        if (job.cancelled())
            return FinishReason::Cancelled;
        const int32_t token = sampler.sample(session.logits().data(), vocab, session.tokens());
        if (!r.ignoreEos && model_->isEndOfGeneration(token))
            return finishText(FinishReason::Stop);
        if (session.position() >= session.contextLength())
            break;
        session.decode(token);
        ++*completionTokens;
        const StopStringMatcher::Result piece = matcher.push(decoder.push(token));
        if (!piece.text.empty() && !job.append(piece.text))
            return FinishReason::Cancelled;
        if (piece.stopped)
            return FinishReason::Stop;
        job.waitWhileHeld(hold_);
    }
    return finishText(FinishReason::Length);
}

} // namespace folio::server
