// Keys in the keyring or, where none answers, for the session only — never on disk.
// The test process has no D-Bus session bus (main.cpp), so no test touches a real keyring.
#include "fake_http_server.h"

#include "app/remote/api_key_store.h"
#include "app/remote/server_profiles.h"

#include <QDirIterator>
#include <QFile>
#include <QSettings>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace folio {
namespace {

TEST(ApiKeyStore, WithoutAKeyringTheKeyIsKeptForTheSessionOnlyAndSaidSo)
{
    const QString server = QStringLiteral("http://127.0.0.1:9/v1");
    const QString key = QStringLiteral("sk-session-only-4711");
    {
        ApiKeyStore store;
        bool written = false, persisted = true;
        QString notice;
        store.write(server, key, [&](bool p, const QString& n) {
            persisted = p;
            notice = n;
            written = true;
        });
        ASSERT_TRUE(test::waitUntil([&] { return written; }));
        EXPECT_FALSE(persisted);
        EXPECT_TRUE(notice.contains(QLatin1String("this session only"))) << notice.toStdString();
        EXPECT_FALSE(notice.contains(key));

        bool read = false;
        QString got;
        store.read(server, [&](const QString& k, const QString&) {
            got = k;
            read = true;
        });
        ASSERT_TRUE(test::waitUntil([&] { return read; }));
        EXPECT_EQ(got, key);

        bool removed = false;
        store.remove(server, [&] { removed = true; });
        ASSERT_TRUE(test::waitUntil([&] { return removed; }));
        read = false;
        store.read(server, [&](const QString& k, const QString&) {
            got = k;
            read = true;
        });
        ASSERT_TRUE(test::waitUntil([&] { return read; }));
        EXPECT_TRUE(got.isEmpty());
    }
    ApiKeyStore nextSession;  // a new session does not have it
    bool read = false;
    QString got = QStringLiteral("x");
    nextSession.read(server, [&](const QString& k, const QString&) {
        got = k;
        read = true;
    });
    ASSERT_TRUE(test::waitUntil([&] { return read; }));
    EXPECT_TRUE(got.isEmpty());
}

TEST(ServerProfiles, RoundTripThroughTheSettingsFileWithoutAnyKey)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("folio.ini"));
    const QList<ServerProfile> profiles = {{QStringLiteral("http://gpu-box:8000/v1"), QStringLiteral("Qwen/Qwen2.5-7B-Instruct-1M"), 600},
                                           {QStringLiteral("http://127.0.0.1:11434/v1"), QString(), 300}};
    {
        QSettings settings(path, QSettings::IniFormat);
        saveServerProfiles(settings, profiles);
    }
    QSettings settings(path, QSettings::IniFormat);
    EXPECT_EQ(loadServerProfiles(settings), profiles);
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    EXPECT_TRUE(text.contains("gpu-box"));
    EXPECT_FALSE(text.toLower().contains("key"));
}

} // namespace
} // namespace folio
