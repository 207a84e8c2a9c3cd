// Where the tests find ../shared (corpus, papers, vocabularies) and what they do
// when it is missing: skip with a plain message on a user's clone, fail under CI.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace folio::test {

inline std::filesystem::path sharedDir()
{
    if (const char* env = std::getenv("FOLIO_SHARED_DIR"); env && *env)
        return env;
    return FOLIO_SHARED_DIR;
}

inline bool underCi()
{
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

inline std::filesystem::path sourceDir() { return FOLIO_SOURCE_DIR; }

} // namespace folio::test

// Use at the top of a test that needs a file under ../shared:
//   FOLIO_REQUIRE_SHARED("papers/longlora.pdf");
#define FOLIO_REQUIRE_SHARED(relative)                                                        \
    do {                                                                                      \
        const auto folioSharedPath_ = ::folio::test::sharedDir() / (relative);                \
        if (!std::filesystem::exists(folioSharedPath_)) {                                     \
            if (::folio::test::underCi())                                                     \
                FAIL() << "CI=true but shared test data is missing: " << folioSharedPath_;    \
            GTEST_SKIP() << "skipped: shared test data not found (" << folioSharedPath_       \
                         << "); it is only present beside the project's own checkout";        \
        }                                                                                     \
    } while (0)
