// An OpenAI-compatible server as an AnswerSource: RemoteReading on a thread of its own
// (its network and its database connection live there, so the GUI thread never waits
// and never writes to the store). The server reads the document itself, so there is
// no reading progress: the answer streams from the first token the server sends.
// Stop keeps what was written (stored, marked interrupted) and ends with answered().
#pragma once

#include "app/answers/answer_source.h"
#include "app/remote/server_profiles.h"

#include <QThread>

namespace folio {

class RemoteReading;

class RemoteAnswerSource : public AnswerSource {
    Q_OBJECT
public:
    explicit RemoteAnswerSource(const QString& databasePath, QObject* parent = nullptr);
    ~RemoteAnswerSource() override;

    // The server to ask from now on (the key from ApiKeyStore; empty: none). Not while busy.
    void setServer(const ServerProfile& profile, const QString& apiKey, int maxTokens = 0, double temperature = -1);
    bool hasServer() const { return m_reading != nullptr; }

    quint64 ask(const AnswerRequest& request) override;
    void stop(quint64 request) override;
    void cancelReading(quint64 request) override;
    bool isBusy() const override { return m_active; }
    bool storesMessages() const override { return true; }

signals:
    void notice(const QString& message);  // retries, a context the server does not state

private:
    void end() { m_active = false; }

    QString m_databasePath;
    QThread m_thread;
    QObject* m_anchor;                  // lives on m_thread: RemoteReadings are made there
    RemoteReading* m_reading = nullptr; // lives on m_thread
    int m_maxTokens = 0;
    double m_temperature = -1;
    bool m_active = false;
    quint64 m_request = 0;
};

} // namespace folio
