#include "engine/kernels/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace folio {
namespace {

// Every index visited exactly once, thread indices in range, no index shared by
// two threads at the same time.
void checkCoverage(ThreadPool& pool, int64_t n, int64_t grain)
{
    std::vector<std::atomic<int>> visits(static_cast<std::size_t>(n));
    std::vector<std::atomic<int>> inUse(static_cast<std::size_t>(pool.size()));
    std::atomic<bool> bad{false};
    pool.parallelFor(n, [&](int64_t begin, int64_t end, int thread) {
        if (thread < 0 || thread >= pool.size() || begin >= end || (end - begin < grain && end != n)) {
            bad = true;
            return;
        }
        if (inUse[static_cast<std::size_t>(thread)].fetch_add(1) != 0)
            bad = true;
        for (int64_t i = begin; i < end; ++i)
            visits[static_cast<std::size_t>(i)].fetch_add(1);
        inUse[static_cast<std::size_t>(thread)].fetch_sub(1);
    }, grain);
    EXPECT_FALSE(bad.load());
    for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(visits[static_cast<std::size_t>(i)].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPool, CoversEveryIndexOnce)
{
    for (int threads : {1, 2, 3, 5}) {
        ThreadPool pool(threads);
        EXPECT_EQ(pool.size(), threads);
        for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 12345})
            for (int64_t grain : {1, 4, 100})
                checkCoverage(pool, n, grain);
    }
}

TEST(ThreadPool, TasksAreClaimedOneAtATime)
{
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        for (int64_t n : {0, 1, 2, 7, 22, 59}) {
            std::vector<std::atomic<int>> visits(static_cast<std::size_t>(n));
            std::atomic<bool> bad{false};
            pool.parallelTasks(n, [&](int64_t begin, int64_t end, int thread) {
                // One task per call, except on a one-thread pool, which runs them all inline.
                if (thread < 0 || thread >= pool.size() || (threads > 1 && end - begin != 1))
                    bad = true;
                for (int64_t i = begin; i < end; ++i)
                    visits[static_cast<std::size_t>(i)].fetch_add(1);
            });
            EXPECT_FALSE(bad.load()) << threads << " threads, " << n << " tasks";
            for (int64_t i = 0; i < n; ++i)
                ASSERT_EQ(visits[static_cast<std::size_t>(i)].load(), 1) << "task " << i << " of " << n;
        }
    }
}

TEST(ThreadPool, DefaultSizeIsHardwareConcurrency)
{
    ThreadPool pool(0);
    EXPECT_EQ(pool.size(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    checkCoverage(pool, 100, 1);
}

TEST(ThreadPool, ManySmallJobsInARow)
{
    ThreadPool pool(3);
    int64_t total = 0;
    for (int round = 0; round < 5000; ++round) {
        std::atomic<int64_t> sum{0};
        pool.parallelFor(10, [&](int64_t begin, int64_t end, int) {
            for (int64_t i = begin; i < end; ++i)
                sum += i;
        });
        total += sum.load();
    }
    EXPECT_EQ(total, 5000 * 45);
}

TEST(ThreadPool, RethrowsAndStaysUsable)
{
    ThreadPool pool(3);
    EXPECT_THROW(pool.parallelFor(100, [](int64_t begin, int64_t, int) {
        if (begin >= 50)
            throw std::runtime_error("boom");
    }), std::runtime_error);
    checkCoverage(pool, 500, 1);
}

TEST(ThreadPool, NestedCallRunsInline)
{
    ThreadPool pool(3);
    std::atomic<int64_t> count{0};
    pool.parallelFor(8, [&](int64_t begin, int64_t end, int outerThread) {
        for (int64_t i = begin; i < end; ++i)
            pool.parallelFor(10, [&](int64_t b, int64_t e, int innerThread) {
                EXPECT_EQ(innerThread, outerThread);
                count += e - b;
            });
    });
    EXPECT_EQ(count.load(), 80);
}

TEST(ThreadPool, CallsFromSeveralThreadsAreSerialized)
{
    ThreadPool pool(3);
    std::vector<std::thread> callers;
    std::atomic<int64_t> total{0};
    for (int c = 0; c < 3; ++c)
        callers.emplace_back([&] {
            for (int round = 0; round < 200; ++round)
                pool.parallelFor(37, [&](int64_t begin, int64_t end, int) { total += end - begin; });
        });
    for (std::thread& t : callers)
        t.join();
    EXPECT_EQ(total.load(), 3 * 200 * 37);
}

TEST(ThreadPool, DestroysIdleAndFreshPools)
{
    for (int i = 0; i < 20; ++i) {
        ThreadPool pool(4);
        if (i % 2)
            checkCoverage(pool, 16, 1);
    }
}

} // namespace
} // namespace folio
