// folio-server's prompt prefixes on disk, so that a second question about the same
// book answers at once even after a restart. The prefix is what a chat request
// shares with the next one — its system messages (where clients put the document),
// or else all but its last message — and its KV state goes to the same fingerprinted,
// chunked, checksummed snapshot store the app keeps its readings in (a SQLite file of
// the server's own). A prefix is found by the hash of its tokens and everything that
// shaped its state (model file, session options); a damaged or unusable snapshot is
// deleted and read again. The cache is an optimisation: a store that fails is said
// once on stderr and the request goes on without it.
//
// Used by the engine worker's thread only (the database is opened there).
#pragma once

#include "engine/session/session.h"

#include <QString>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace folio {
class Database;
}

namespace folio::server {

struct PromptCacheOptions {
    std::string databasePath;         // empty: no cache
    int minTokens = 512;              // shorter prefixes are cheap to read again
    int64_t budgetBytes = int64_t{16} << 30;   // least recently used snapshots go beyond it
};

class PromptCache {
public:
    explicit PromptCache(PromptCacheOptions options);
    ~PromptCache();

    bool enabled() const { return !options_.databasePath.empty() && !broken_; }
    int minTokens() const { return options_.minTokens; }

    // Loads the saved state of prompt[0, length) into `session`; true when it then
    // holds exactly those tokens (false: not saved, or unusable; the session is empty).
    bool restore(Session& session, const std::vector<int32_t>& prompt, int length);
    // Saves the state of prompt[0, length), which the session holds at its start
    // (it may hold more: what follows is cut on restore). Nothing when already saved.
    void save(const Session& session, const std::vector<int32_t>& prompt, int length);

    int64_t restored() const { return restored_; }
    int64_t saved() const { return saved_; }

private:
    // What shaped the state of a prefix whose tokens hash to `hash` (tokensHash).
    std::string fingerprint(const Session& session, const QString& hash, int length) const;
    bool open();
    void fail(const std::string& what);

    PromptCacheOptions options_;
    std::unique_ptr<Database> db_;
    bool broken_ = false;
    std::set<std::string> known_;  // fingerprints saved by this process
    int64_t restored_ = 0;
    int64_t saved_ = 0;
};

} // namespace folio::server
