// Small helpers shared by folio-bench's commands: --name value options, lists,
// timing and peak memory of a measurement run in a child process.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace folio::bench {

using Options = std::map<std::string, std::string>;

// argv[2..]: --name value pairs.
Options parseOptions(int argc, char** argv);

// The option's value, or fallback; throws when absent and fallback is empty.
std::string option(const Options& options, const std::string& name, const std::string& fallback);

// "4096,16k,2x" -> values; k = 1024; "Nx" = N * unit (unit 0: 'x' not allowed).
std::vector<int> parseCounts(const std::string& list, int unit = 0);
std::vector<std::string> parseWords(const std::string& list);

double secondsSince(std::chrono::steady_clock::time_point start);

// Runs body() in a child process (fork) and returns what it wrote to its pipe plus
// the child's peak resident set (KiB). The parent holds no threads or mappings, so
// each measurement's peak RSS is its own. Throws when the child fails.
struct ChildResult {
    std::string output;
    long peakRssKiB = 0;
};
ChildResult runInChild(const std::function<std::string()>& body);

} // namespace folio::bench
