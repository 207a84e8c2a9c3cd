// The servers the user saved: address, chosen model, idle timeout. In the settings
// file (QSettings); their keys are not (ApiKeyStore).
#pragma once

#include <QList>
#include <QString>

class QSettings;

namespace folio {

struct ServerProfile {
    QString address;   // as the user typed it (ServerEndpoint::parse accepts it)
    QString model;     // the server's model id; empty: the first it lists
    int idleTimeoutSeconds = 300;
    bool operator==(const ServerProfile&) const = default;
};

QList<ServerProfile> loadServerProfiles(QSettings& settings);
void saveServerProfiles(QSettings& settings, const QList<ServerProfile>& profiles);

} // namespace folio
