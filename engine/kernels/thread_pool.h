// A persistent pool of worker threads for data-parallel loops. Workers spin
// briefly and then sleep on a condition variable, so the many small loops of a
// decode step do not pay a thread start or a full sleep/wake each time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace folio {

class ThreadPool {
public:
    using RangeFn = std::function<void(int64_t begin, int64_t end, int thread)>;

    // threads <= 0: std::thread::hardware_concurrency(). The caller counts as one of them.
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return threadCount_; }

    // Calls fn(begin, end, thread) on disjoint sub-ranges covering [0, n), each at
    // least `grain` long (except perhaps the last); thread is in [0, size()) and no
    // two concurrent calls share one, so it can index per-thread scratch memory.
    // Blocks until all are done; the calling thread takes part. The first exception
    // thrown by fn is rethrown here (remaining ranges are skipped). A call made from
    // inside fn runs inline on the calling thread; calls from several outside
    // threads are serialized.
    void parallelFor(int64_t n, const RangeFn& fn, int64_t grain = 1);

    // parallelFor with every index claimed on its own, for a few dozen heavy tasks
    // (GEMM panels): parallelFor's chunks of several tasks (about four per thread)
    // could leave one thread a whole chunk of work after the other had finished.
    void parallelTasks(int64_t n, const RangeFn& fn);

private:
    void run(int64_t n, const RangeFn& fn, int64_t chunk);
    void workerLoop(int thread);
    void runChunks(int thread);

    int threadCount_ = 1;
    std::vector<std::thread> workers_;
    std::mutex callMutex_;   // one parallelFor at a time

    // The current job, written under mutex_ before generation_ is bumped. A worker
    // joins it (activeWorkers_++) only while jobOpen_; the caller closes the job once
    // no chunk is left to claim and waits only for the workers that joined, so a
    // worker the OS has not scheduled yet never delays the caller.
    const RangeFn* job_ = nullptr;
    int64_t jobSize_ = 0;
    int64_t jobChunk_ = 1;
    bool jobOpen_ = false;
    std::atomic<int64_t> nextBegin_{0};
    std::exception_ptr firstError_;
    std::mutex errorMutex_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> activeWorkers_{0};
    bool stopping_ = false;
};

} // namespace folio
