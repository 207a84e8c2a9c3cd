#include "app/remote/api_key_store.h"

#include <qt6keychain/keychain.h>

namespace folio {

namespace {

const QString kService = QStringLiteral("Folio");

void configure(QKeychain::Job* job, const QString& server)
{
    job->setAutoDelete(true);
    job->setInsecureFallback(false);  // never a plain-text file
    job->setKey(server);
}

} // namespace

ApiKeyStore::ApiKeyStore(QObject* parent) : QObject(parent) {}

void ApiKeyStore::read(const QString& server, std::function<void(const QString&, const QString&)> done)
{
    auto* job = new QKeychain::ReadPasswordJob(kService, this);
    configure(job, server);
    connect(job, &QKeychain::Job::finished, this, [this, server, done](QKeychain::Job* finished) {
        const auto* reader = static_cast<QKeychain::ReadPasswordJob*>(finished);
        if (reader->error() == QKeychain::NoError)
            return done(reader->textData(), {});
        if (reader->error() == QKeychain::EntryNotFound)
            return done(sessionKeys_.value(server), {});
        done(sessionKeys_.value(server),
             tr("The system keyring did not answer (%1); API keys are kept for this session only.")
                 .arg(reader->errorString()));
    });
    job->start();
}

void ApiKeyStore::write(const QString& server, const QString& key, std::function<void(bool, const QString&)> done)
{
    auto* job = new QKeychain::WritePasswordJob(kService, this);
    configure(job, server);
    job->setTextData(key);
    connect(job, &QKeychain::Job::finished, this, [this, server, key, done](QKeychain::Job* finished) {
        if (finished->error() == QKeychain::NoError) {
            sessionKeys_.remove(server);
            return done(true, {});
        }
        sessionKeys_.insert(server, key);
        done(false, tr("The system keyring did not answer (%1): the API key for %2 is kept for this session only "
                       "and will be asked for again next time.")
                        .arg(finished->errorString(), server));
    });
    job->start();
}

void ApiKeyStore::remove(const QString& server, std::function<void()> done)
{
    sessionKeys_.remove(server);
    auto* job = new QKeychain::DeletePasswordJob(kService, this);
    configure(job, server);
    connect(job, &QKeychain::Job::finished, this, [done](QKeychain::Job*) {
        if (done)
            done();
    });
    job->start();
}

} // namespace folio
