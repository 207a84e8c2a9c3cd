// API keys of servers, kept in the system keyring (QtKeychain: Secret Service or
// KWallet on Linux) under the service "Folio", one entry per server address. Where no
// keyring answers, a key is held in this process's memory for the session only, and
// the caller is told so in words it can show. A key never goes to the SQLite file, the
// settings file, a log or a command line; QtKeychain's plain-text fallback is off.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>

#include <functional>

namespace folio {

class ApiKeyStore : public QObject {
    Q_OBJECT
public:
    explicit ApiKeyStore(QObject* parent = nullptr);

    // done(key, notice): the key ("" when none is kept) and, when the keyring could
    // not be asked, why (the key, if any, then came from this session's memory).
    void read(const QString& server, std::function<void(const QString& key, const QString& notice)> done);
    // done(persisted, notice): persisted false means kept for this session only; the
    // notice says so and why.
    void write(const QString& server, const QString& key, std::function<void(bool persisted, const QString& notice)> done);
    void remove(const QString& server, std::function<void()> done = {});

private:
    QHash<QString, QString> sessionKeys_;  // where no keyring answers
};

} // namespace folio
