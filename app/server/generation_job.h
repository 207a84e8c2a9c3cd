// One request's generation as the engine worker and an HTTP thread share it: the
// worker appends text and finally a result; the HTTP thread takes the text as it
// comes (streaming) or all at the end, and may cancel at any time. Every member is
// safe to call from either thread.
#pragma once

#include "engine/session/sampler.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace folio::server {

struct GenerationRequest {
    std::vector<int32_t> prompt;          // the whole prompt, template applied
    int keepPrefix = 0;                   // prompt[0, keepPrefix) is shared with later requests (a chat's document)
    int maxTokens = 0;
    int reserve = 1;                      // room beyond the prompt that picks the session shape
    SamplerParams sampler;
    std::vector<std::string> stop;        // stop strings (the request's and the template's)
    bool ignoreEos = false;
    bool stream = false;                  // streamed text is taken as it comes: bound the backlog
};

enum class FinishReason { Stop, Length, Cancelled, Error };

struct GenerationResult {
    FinishReason finish = FinishReason::Error;
    std::string error;                    // FinishReason::Error
    int promptTokens = 0;
    int reusedPromptTokens = 0;           // kept in the KV cache from an earlier request
    int completionTokens = 0;
};

class GenerationJob {
public:
    explicit GenerationJob(GenerationRequest request) : request_(std::move(request)) {}

    const GenerationRequest& request() const { return request_; }

    void cancel();
    bool cancelled() const { return cancel_.load(); }
    const std::atomic<bool>* cancelFlag() const { return &cancel_; }

    // HTTP side. Waits up to `timeout` for text or the end; returns the text that
    // arrived since the last call and whether the job has finished.
    struct Update {
        std::string text;
        bool finished = false;
    };
    Update waitForUpdate(std::chrono::milliseconds timeout);
    // Waits for the end; the whole text (for answers that are not streamed).
    std::string waitForText();
    GenerationResult result() const;  // meaningful once finished

    // Worker side. Appends text; for a streamed job waits while the reader lags far
    // behind. Returns false when the job was cancelled.
    bool append(const std::string& text);
    // Waits while *hold is true (a test hook), or until cancelled.
    void waitWhileHeld(const std::atomic<bool>& hold);
    void finish(GenerationResult result);

private:
    static constexpr std::size_t kMaxBacklogBytes = 64 * 1024;

    const GenerationRequest request_;
    std::atomic<bool> cancel_{false};
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string pending_;
    bool finished_ = false;
    GenerationResult result_;
};

} // namespace folio::server
