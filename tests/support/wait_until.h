// Turns the event loop until done() holds or the timeout passes (false then): for tests
// whose servers, sockets or threads report through queued signals.
#pragma once

#include <QCoreApplication>
#include <QElapsedTimer>

#include <functional>

namespace folio::test {

inline bool waitUntil(const std::function<bool()>& done, int timeoutMs = 20000)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    return true;
}

} // namespace folio::test
