#include "bench/bench_util.h"

#include <cstdio>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace folio::bench {

Options parseOptions(int argc, char** argv)
{
    Options options;
    for (int i = 2; i < argc; ++i) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || i + 1 >= argc)
            throw std::runtime_error("expected --name value, got '" + key + "'");
        options[key.substr(2)] = argv[++i];
    }
    return options;
}

std::string option(const Options& options, const std::string& name, const std::string& fallback)
{
    const auto it = options.find(name);
    if (it != options.end())
        return it->second;
    if (fallback.empty())
        throw std::runtime_error("missing --" + name);
    return fallback;
}

std::vector<std::string> parseWords(const std::string& list)
{
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t comma = list.find(',', start);
        const std::string word = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!word.empty())
            words.push_back(word);
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return words;
}

std::vector<int> parseCounts(const std::string& list, int unit)
{
    std::vector<int> counts;
    for (const std::string& word : parseWords(list)) {
        std::size_t used = 0;
        const double value = std::stod(word, &used);
        const std::string suffix = word.substr(used);
        double scale = 1;
        if (suffix == "k" || suffix == "K")
            scale = 1024;
        else if (suffix == "x" && unit > 0)
            scale = unit;
        else if (!suffix.empty())
            throw std::runtime_error("cannot read the count '" + word + "'");
        counts.push_back(static_cast<int>(value * scale));
    }
    if (counts.empty())
        throw std::runtime_error("empty list");
    return counts;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

ChildResult runInChild(const std::function<std::string()>& body)
{
    std::fflush(stdout);
    int fds[2];
    if (pipe(fds) != 0)
        throw std::runtime_error("pipe failed");
    const pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        close(fds[0]);
        int code = 0;
        std::string out;
        try {
            out = body();
        } catch (const std::exception& e) {
            out = std::string("error: ") + e.what();
            code = 1;
        }
        for (std::size_t done = 0; done < out.size();) {
            const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0)
                break;
            done += static_cast<std::size_t>(n);
        }
        close(fds[1]);
        _exit(code);
    }
    close(fds[1]);
    ChildResult result;
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
        result.output.append(buffer, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    result.peakRssKiB = usage.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(result.output.empty() ? "measurement process failed" : result.output);
    return result;
}

} // namespace folio::bench
