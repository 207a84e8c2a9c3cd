#include "app/server/generation_job.h"

namespace folio::server {

void GenerationJob::cancel()
{
    {
        // Under the lock, so that a waiter between its check and its wait sees it.
        std::lock_guard lock(mutex_);
        cancel_.store(true);
    }
    changed_.notify_all();
}

GenerationJob::Update GenerationJob::waitForUpdate(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return !pending_.empty() || finished_; });
    Update u;
    u.text.swap(pending_);
    u.finished = finished_;
    lock.unlock();
    changed_.notify_all();  // the worker may wait for room
    return u;
}

std::string GenerationJob::waitForText()
{
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return finished_; });
    return std::move(pending_);
}

GenerationResult GenerationJob::result() const
{
    std::lock_guard lock(mutex_);
    return result_;
}

bool GenerationJob::append(const std::string& text)
{
    std::unique_lock lock(mutex_);
    if (request_.stream)
        changed_.wait(lock, [&] { return pending_.size() < kMaxBacklogBytes || cancel_.load(); });
    if (cancel_.load())
        return false;
    pending_ += text;
    lock.unlock();
    changed_.notify_all();
    return true;
}

void GenerationJob::waitWhileHeld(const std::atomic<bool>& hold)
{
    // The hold is the worker's flag, not this job's: poll it, woken early by a cancel.
    std::unique_lock lock(mutex_);
    while (hold.load() && !cancel_.load())
        changed_.wait_for(lock, std::chrono::milliseconds(20));
}

void GenerationJob::finish(GenerationResult result)
{
    {
        std::lock_guard lock(mutex_);
        result_ = std::move(result);
        finished_ = true;
    }
    changed_.notify_all();
}

} // namespace folio::server
