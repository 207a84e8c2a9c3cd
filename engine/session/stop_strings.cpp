#include "engine/session/stop_strings.h"

#include <algorithm>

namespace folio {

size_t incompleteUtf8Tail(std::string_view text)
{
    // Walk back over at most 3 continuation bytes to the lead byte and compare
    // the length it announces with what is present.
    const size_t n = text.size();
    for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
        const auto byte = static_cast<unsigned char>(text[n - back]);
        if ((byte & 0xC0) == 0x80)
            continue;  // continuation byte
        size_t expected = 1;
        if ((byte & 0xE0) == 0xC0)
            expected = 2;
        else if ((byte & 0xF0) == 0xE0)
            expected = 3;
        else if ((byte & 0xF8) == 0xF0)
            expected = 4;
        return expected > back ? back : 0;
    }
    return 0;  // only continuation bytes: invalid, nothing sensible to wait for
}

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops)
{
    for (auto& s : stops)
        if (!s.empty())
            stops_.push_back(std::move(s));
}

void StopStringMatcher::reset()
{
    pending_.clear();
    stopped_ = false;
}

size_t StopStringMatcher::heldBackLength() const
{
    size_t hold = 0;
    const std::string_view text = pending_;
    for (const std::string& stop : stops_) {
        // Longest suffix of the text that is a proper prefix of this stop string.
        const size_t maxLen = std::min(stop.size() - 1, text.size());
        for (size_t len = maxLen; len > hold; --len) {
            if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
                hold = len;
                break;
            }
        }
    }
    return std::max(hold, incompleteUtf8Tail(text));
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view newText)
{
    if (stopped_)
        return {std::string(), true};
    pending_.append(newText);

    size_t earliest = std::string::npos;
    for (const std::string& stop : stops_)
        earliest = std::min(earliest, pending_.find(stop));
    if (earliest != std::string::npos) {
        Result result{pending_.substr(0, earliest), true};
        pending_.clear();
        stopped_ = true;
        return result;
    }

    const size_t emitLength = pending_.size() - heldBackLength();
    Result result{pending_.substr(0, emitLength), false};
    pending_.erase(0, emitLength);
    return result;
}

std::string StopStringMatcher::flush()
{
    std::string out;
    out.swap(pending_);
    return stopped_ ? std::string() : out;
}

} // namespace folio
