#include <QCoreApplication>

#include <gtest/gtest.h>

int main(int argc, char** argv)
{
    // No test may read or write the developer's real keyring: without a session bus,
    // QtKeychain finds no backend and ApiKeyStore falls back to this session's memory.
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    QCoreApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
