// The model manager's "Server" page: an OpenAI-compatible server (vLLM, llama.cpp's
// server, Ollama, LM Studio, folio-server) to answer instead of the local model. The
// address, an optional API key (kept in the system keyring, never in the settings),
// the idle timeout, and the server's models with the context each one gets; "Test
// connection" shows the server's reply or its error. Several servers can be saved;
// the one shown is the one chosen.
#pragma once

#include "app/remote/openai_client.h"
#include "app/remote/server_profiles.h"

#include <QPointer>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace folio {

class ApiKeyStore;

class ServerPage : public QWidget {
    Q_OBJECT
public:
    explicit ServerPage(ApiKeyStore* keys, QWidget* parent = nullptr);
    ~ServerPage() override;

    // The saved servers and the one to show (empty: the first, or a new one).
    void setProfiles(const QList<ServerProfile>& profiles, const QString& current);
    // The saved servers with the one shown (edited) among them, unless its address is empty.
    QList<ServerProfile> profiles() const;
    ServerProfile current() const;
    QString apiKey() const;
    bool keyEdited() const { return m_keyEdited; }
    const QList<RemoteModel>& models() const { return m_models; }

    void testConnection();
    void forgetCurrent();
    // Writes the shown server's key to the keyring (or removes it when emptied);
    // done(notice): empty when kept, else why it is kept for this session only.
    void saveKey(std::function<void(const QString& notice)> done);

signals:
    void tested(bool ok);   // the reply or error is on the page

private:
    void show(int index);
    void stash();   // the fields into m_profiles[m_index]
    void fillModels(const QString& chosen);
    void setStatus(const QString& text, bool error);

    ApiKeyStore* m_keys;
    QList<ServerProfile> m_profiles;
    int m_index = -1;
    QList<RemoteModel> m_models;
    std::unique_ptr<OpenAiClient> m_client;   // the running test
    bool m_keyEdited = false;
    quint64 m_keyRead = 0;   // the latest read: an older one must not fill the field

    QComboBox* m_saved;
    QLineEdit* m_address;
    QLineEdit* m_key;
    QSpinBox* m_timeout;
    QComboBox* m_model;
    QPushButton* m_test;
    QLabel* m_status;
    QLabel* m_keyNotice;
};

} // namespace folio
