#include "app/remote/server_profiles.h"

#include <QSettings>

namespace folio {

QList<ServerProfile> loadServerProfiles(QSettings& settings)
{
    QList<ServerProfile> profiles;
    const int count = settings.beginReadArray(QStringLiteral("servers"));
    for (int i = 0; i < count; ++i) {
        settings.setArrayIndex(i);
        ServerProfile profile;
        profile.address = settings.value(QStringLiteral("address")).toString();
        profile.model = settings.value(QStringLiteral("model")).toString();
        profile.idleTimeoutSeconds = std::clamp(settings.value(QStringLiteral("idleTimeout"), 300).toInt(), 5, 3600);
        if (!profile.address.isEmpty())
            profiles.append(profile);
    }
    settings.endArray();
    return profiles;
}

void saveServerProfiles(QSettings& settings, const QList<ServerProfile>& profiles)
{
    settings.beginWriteArray(QStringLiteral("servers"), static_cast<int>(profiles.size()));
    for (int i = 0; i < profiles.size(); ++i) {
        settings.setArrayIndex(i);
        settings.setValue(QStringLiteral("address"), profiles[i].address);
        settings.setValue(QStringLiteral("model"), profiles[i].model);
        settings.setValue(QStringLiteral("idleTimeout"), profiles[i].idleTimeoutSeconds);
    }
    settings.endArray();
}

} // namespace folio
