// The one engine session of folio-server and the thread that drives it. Requests
// wait in a bounded queue and run one at a time; a full queue refuses at once, so
// the HTTP side can answer 503.
//
// The session stays between requests, and with it the KV cache of what it last
// read: a new prompt keeps the longest common token prefix (Session::truncate) and
// only the rest is read, so a second question about the same document starts
// answering at once. A chat's shared prefix also goes to disk (PromptCache), for the
// next conversation about the same document and for after a restart.
#pragma once

#include "app/server/generation_job.h"
#include "app/server/prompt_cache.h"
#include "engine/model/model.h"
#include "engine/session/session.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace folio::server {

// How requests are held: one session shape for those that fit the model's trained
// context and, when the server offers more, the shape the context planner chose for
// the whole length (DCA, YaRN, ...). A request gets the first shape it fits; the
// session is rebuilt (losing its cached prefix) only when the shape changes.
struct SessionPlan {
    SessionOptions standard;
    std::optional<SessionOptions> extended;
    int maxContext() const { return extended ? extended->contextLength : standard.contextLength; }
    const SessionOptions& optionsFor(int tokens) const
    {
        return extended && tokens > standard.contextLength ? *extended : standard;
    }
};

class EngineWorker {
public:
    EngineWorker(std::shared_ptr<const Model> model, SessionPlan plan, int queueCapacity,
                 PromptCacheOptions cache = {});
    ~EngineWorker();
    EngineWorker(const EngineWorker&) = delete;
    EngineWorker& operator=(const EngineWorker&) = delete;

    // Cancels what runs, finishes what waits as cancelled and refuses new requests;
    // the thread ends. Any thread; the destructor calls it.
    void shutdown();

    // nullptr when queueCapacity requests already wait, or after shutdown().
    std::shared_ptr<GenerationJob> submit(GenerationRequest request);

    struct Stats {
        int queued = 0;
        bool running = false;
        int64_t completed = 0;   // finished with stop or length
        int64_t cancelled = 0;
        int64_t failed = 0;
        int64_t promptTokensRead = 0;    // prefilled, not reused
        int64_t promptTokensReused = 0;
        std::string extension;           // of the session now held ("" before the first request)
        int64_t promptCacheRestored = 0; // prompt prefixes read from the disk cache
        int64_t promptCacheSaved = 0;    // and written to it
    };
    Stats stats() const;

    // Test hook: while held, a generation pauses after each token (until cancelled).
    void setHold(bool hold) { hold_.store(hold); }

    const SessionPlan& plan() const { return plan_; }
    const Model& model() const { return *model_; }

private:
    void loop();
    GenerationResult process(GenerationJob& job);
    Session& sessionFor(int tokens);
    // Generates into the job; returns the finish reason and counts tokens.
    FinishReason generate(GenerationJob& job, int* completionTokens);

    const std::shared_ptr<const Model> model_;
    const SessionPlan plan_;
    const int capacity_;
    std::atomic<bool> hold_{false};

    // Worker thread only.
    std::unique_ptr<Session> session_;
    const SessionOptions* sessionShape_ = nullptr;
    PromptCache cache_;
    int saveLength_ = 0;  // the running request's prefix to save once it is answered

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<GenerationJob>> queue_;
    std::shared_ptr<GenerationJob> running_;
    bool stopping_ = false;
    Stats stats_;

    std::thread thread_;  // last: starts once everything above exists
};

} // namespace folio::server
