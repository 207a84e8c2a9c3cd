#include "app/remote/answer_source_choice.h"

#include "app/answers/embedded_answer_source.h"
#include "app/remote/api_key_store.h"
#include "app/remote/remote_answer_source.h"
#include "app/remote/remote_reading.h"
#include "app/remote/server_profiles.h"

#include <QSettings>

namespace folio {

AnswerSourceChoice::AnswerSourceChoice(const QString& databasePath, ApiKeyStore* keys, QObject* parent)
    : QObject(parent), m_databasePath(databasePath), m_keys(keys),
      m_embedded(new EmbeddedAnswerSource(databasePath, this))
{
    followEnds(m_embedded);
}

// However a request ends, a change that waited for it is taken.
void AnswerSourceChoice::followEnds(AnswerSource* source)
{
    auto ended = [this] { onRequestEnded(); };
    connect(source, &AnswerSource::answered, this, ended, Qt::QueuedConnection);
    connect(source, &AnswerSource::failed, this, ended, Qt::QueuedConnection);
    connect(source, &AnswerSource::cancelled, this, ended, Qt::QueuedConnection);
}

AnswerSourceChoice::~AnswerSourceChoice() = default;

void AnswerSourceChoice::apply(const ModelSettings& settings)
{
    ++m_applied;
    if (m_current && m_current->isBusy()) {
        m_pending = settings;
        return;
    }
    applyNow(settings);
}

void AnswerSourceChoice::onRequestEnded()
{
    if (!m_pending || (m_current && m_current->isBusy()))
        return;
    const ModelSettings settings = *std::exchange(m_pending, std::nullopt);
    applyNow(settings);
}

void AnswerSourceChoice::applyNow(const ModelSettings& settings)
{
    m_embedded->applySettings(settings);
    if (!settings.usesServer()) {
        m_serverName.clear();
        use(m_embedded);
        return;
    }
    QSettings store;
    ServerProfile profile;
    profile.address = settings.server;
    for (const ServerProfile& saved : loadServerProfiles(store))
        if (saved.address == settings.server)
            profile = saved;
    if (!m_remote) {
        m_remote = new RemoteAnswerSource(m_databasePath, this);
        connect(m_remote, &RemoteAnswerSource::notice, this, &AnswerSourceChoice::notice);
        followEnds(m_remote);
    }
    const quint64 applied = m_applied;
    m_keys->read(profile.address, [this, applied, profile, settings](const QString& key, const QString& notice) {
        if (applied != m_applied)
            return;  // a newer choice was made while the keyring answered
        if (!notice.isEmpty())
            emit this->notice(notice);
        if (m_current && m_current->isBusy()) {  // a question went out meanwhile: after its answer
            m_pending = settings;
            return;
        }
        m_remote->setServer(profile, key, settings.maxTokens, settings.temperature);
        m_serverName = profile.model.isEmpty() ? QStringLiteral("server %1").arg(profile.address)
                                               : RemoteReading::answererName(profile.address, profile.model);
        use(m_remote);
    });
}

void AnswerSourceChoice::use(AnswerSource* source)
{
    m_current = source;
    emit changed(source);
}

} // namespace folio
