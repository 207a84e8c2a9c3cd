// A tiny random model and small multi-page text documents for the reading tests.
#pragma once

#include "app/reading/reading_session.h"

#include <QString>
#include <QTemporaryDir>

namespace folio::test {

struct ReadingFixture {
    QTemporaryDir dir;
    QString model;      // a tiny llama GGUF (letters-only vocabulary)
    QString database;   // a fresh SQLite path in dir

    ReadingFixture();
    // A text document of `pages` sections (about 160 characters each), different per seed.
    QString writeDocument(const QString& name, int pages, int seed = 1);
    // Options that keep the tests fast: small sections and micro-batches, 2 threads.
    ReadingOptions options() const;
};

} // namespace folio::test
