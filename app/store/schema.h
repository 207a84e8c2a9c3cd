// The store's schema as an ordered list of forward migrations. PRAGMA user_version holds
// the number of the last one applied; opening a database applies the rest in one
// transaction, so a failure leaves it at its old version. Never edit a migration that
// has shipped: add a new one.
#pragma once

#include <vector>

namespace folio {

class Database;

struct Migration {
    int version;        // user_version after this step
    const char* what;   // one line for the history
    const char* sql;
};

const std::vector<Migration>& schemaMigrations();
int currentSchemaVersion();

// Brings `db` to currentSchemaVersion(); throws StoreError (NewerSchema when another
// process has meanwhile upgraded it past what this code knows).
void migrateSchema(Database& db);

} // namespace folio
