// Which source answers: the embedded engine or a saved server, as the model manager's
// settings say. Owns both sources and the keyring's reader; a server's key is read
// from the keyring (asynchronously) before the server is asked. A change made while a
// question is being answered waits for that answer to end, so no answer loses its
// listener half-way.
#pragma once

#include "app/answers/answer_source.h"
#include "app/settings/model_settings.h"

#include <QObject>

#include <optional>

namespace folio {

class ApiKeyStore;
class EmbeddedAnswerSource;
class RemoteAnswerSource;

class AnswerSourceChoice : public QObject {
    Q_OBJECT
public:
    AnswerSourceChoice(const QString& databasePath, ApiKeyStore* keys, QObject* parent = nullptr);
    ~AnswerSourceChoice() override;

    // Takes the settings (now, or when the running answer ends); changed() follows.
    void apply(const ModelSettings& settings);
    AnswerSource* current() const { return m_current; }
    EmbeddedAnswerSource* embedded() const { return m_embedded; }
    RemoteAnswerSource* remote() const { return m_remote; }
    // "server URL · MODEL" while a server answers; empty for the embedded engine.
    QString serverName() const { return m_serverName; }

signals:
    void changed(folio::AnswerSource* source);
    void notice(const QString& message);  // the keyring, a server's retries

private:
    void applyNow(const ModelSettings& settings);
    void onRequestEnded();
    void followEnds(AnswerSource* source);
    void use(AnswerSource* source);

    QString m_databasePath;
    ApiKeyStore* m_keys;
    EmbeddedAnswerSource* m_embedded;
    RemoteAnswerSource* m_remote = nullptr;  // made when a server is first chosen
    AnswerSource* m_current = nullptr;
    QString m_serverName;
    std::optional<ModelSettings> m_pending;  // waits for the running answer
    quint64 m_applied = 0;                   // the latest apply(): older key reads are dropped
};

} // namespace folio
