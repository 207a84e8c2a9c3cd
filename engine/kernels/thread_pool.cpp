#include "engine/kernels/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace folio {
namespace {

// The pool whose job the current thread is running, so that a nested parallelFor
// runs inline instead of waiting on workers that are busy with the outer job.
thread_local const ThreadPool* tlsRunningPool = nullptr;
thread_local int tlsThreadIndex = 0;

// How long a thread polls before it sleeps on the condition variable. It must bridge
// the gaps between the parallel calls of one decode step (the single-threaded ops
// between two matVecs), or every call pays a futex wake-up: on the 2-core VMs a
// wake-up costs about a hundred microseconds, and polling for a fixed 1000 pause
// instructions (~50 us on CPUs whose pause takes ~140 cycles) let the workers fall
// asleep 100 times per token (folio-bench forward, Q4_0 decode: 6678 context
// switches for 64 tokens, 15.0 tok/s; polling 1 ms: 312, 19.0 tok/s). Measured in
// time, not iterations, because the cost of pause differs tenfold between CPUs.
constexpr auto kSpinTime = std::chrono::microseconds(1000);

inline void cpuRelax()
{
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

// Polls `done` for up to kSpinTime, yielding now and then; true once it holds.
template <typename Pred>
bool spinFor(Pred done)
{
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (;;) {
        for (int i = 0; i < 32; ++i) {
            if (done())
                return true;
            cpuRelax();
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return done();
        // With more threads than cores (several pools, or a UI thread), let a
        // runnable thread have this core rather than poll through its time slice.
        std::this_thread::yield();
    }
}

// Marks the current thread as running `pool`'s job, restoring the previous marker
// on exit (the caller may itself be a worker of another pool).
class RunningPoolScope {
public:
    RunningPoolScope(const ThreadPool* pool, int thread) : pool_(tlsRunningPool), thread_(tlsThreadIndex)
    {
        tlsRunningPool = pool;
        tlsThreadIndex = thread;
    }
    ~RunningPoolScope()
    {
        tlsRunningPool = pool_;
        tlsThreadIndex = thread_;
    }
    RunningPoolScope(const RunningPoolScope&) = delete;
    RunningPoolScope& operator=(const RunningPoolScope&) = delete;

private:
    const ThreadPool* pool_;
    int thread_;
};

} // namespace

ThreadPool::ThreadPool(int threads)
{
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threadCount_ = threads;
    workers_.reserve(static_cast<std::size_t>(threads - 1));
    for (int i = 1; i < threads; ++i)
        workers_.emplace_back([this, i] { workerLoop(i); });
}

ThreadPool::~ThreadPool()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_)
        t.join();
}

void ThreadPool::runChunks(int thread)
{
    const RangeFn& fn = *job_;
    for (;;) {
        const int64_t begin = nextBegin_.fetch_add(jobChunk_, std::memory_order_relaxed);
        if (begin >= jobSize_)
            return;
        const int64_t end = std::min(jobSize_, begin + jobChunk_);
        try {
            fn(begin, end, thread);
        } catch (...) {
            {
                std::lock_guard lock(errorMutex_);
                if (!firstError_)
                    firstError_ = std::current_exception();
            }
            nextBegin_.store(jobSize_, std::memory_order_relaxed);  // skip the rest
            return;
        }
    }
}

void ThreadPool::workerLoop(int thread)
{
    RunningPoolScope scope(this, thread);
    uint64_t seen = 0;
    for (;;) {
        spinFor([&] { return generation_.load(std::memory_order_relaxed) != seen; });
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_.load(std::memory_order_relaxed) != seen; });
            if (stopping_)
                return;
            seen = generation_.load(std::memory_order_relaxed);
            if (!jobOpen_)
                continue;  // woke too late: the caller already finished this job
            activeWorkers_.fetch_add(1, std::memory_order_relaxed);
        }
        runChunks(thread);
        std::lock_guard lock(mutex_);
        if (activeWorkers_.fetch_sub(1, std::memory_order_release) == 1 && !jobOpen_)
            done_.notify_one();
    }
}

void ThreadPool::parallelFor(int64_t n, const RangeFn& fn, int64_t grain)
{
    if (n <= 0)
        return;
    grain = std::max<int64_t>(1, grain);
    if (tlsRunningPool == this || threadCount_ == 1 || n <= grain) {
        fn(0, n, tlsRunningPool == this ? tlsThreadIndex : 0);
        return;
    }

    // About four chunks per thread balance uneven work without much contention.
    run(n, fn, std::max(grain, (n + threadCount_ * 4 - 1) / (threadCount_ * 4)));
}

void ThreadPool::parallelTasks(int64_t n, const RangeFn& fn)
{
    if (n <= 0)
        return;
    if (tlsRunningPool == this || threadCount_ == 1 || n == 1) {
        fn(0, n, tlsRunningPool == this ? tlsThreadIndex : 0);
        return;
    }
    run(n, fn, 1);
}

void ThreadPool::run(int64_t n, const RangeFn& fn, int64_t chunk)
{
    std::lock_guard callLock(callMutex_);
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        jobSize_ = n;
        jobChunk_ = chunk;
        jobOpen_ = true;
        nextBegin_.store(0, std::memory_order_relaxed);
        firstError_ = nullptr;
        generation_.fetch_add(1, std::memory_order_relaxed);
    }
    wake_.notify_all();

    {
        RunningPoolScope scope(this, 0);
        runChunks(0);
    }

    // Nothing is left to claim: close the job, then wait for the workers that joined.
    {
        std::lock_guard lock(mutex_);
        jobOpen_ = false;
    }
    spinFor([&] { return activeWorkers_.load(std::memory_order_acquire) == 0; });
    {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return activeWorkers_.load(std::memory_order_relaxed) == 0; });
        job_ = nullptr;
    }
    if (firstError_) {
        std::exception_ptr error = firstError_;
        firstError_ = nullptr;
        std::rethrow_exception(error);
    }
}

} // namespace folio
