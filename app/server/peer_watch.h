// Whether the client of a request that is not streamed has gone away. cpp-httplib as
// Debian 12 ships it (0.11) tells a handler nothing of its connection while it waits,
// and a streamed reply finds a dead client by writing; a plain JSON reply has nothing
// to write until the end. So the connection's TCP state is read from the kernel's
// table (/proc/net/tcp, tcp6: Linux): once the client has closed its side, the
// server's socket is in CLOSE_WAIT (or gone, after a reset).
#pragma once

#include <string>

namespace folio::server {

class PeerWatch {
public:
    // The connection as the request names it (local and remote address and port).
    PeerWatch(std::string localAddress, int localPort, std::string remoteAddress, int remotePort);

    // True once the connection was seen open and is now half-closed by the client or
    // gone. False while open, and when the table cannot be read (nothing is assumed).
    bool clientLeft();

private:
    enum class State { Unknown, Open, Closed };
    State read() const;

    std::string localAddress_, remoteAddress_;
    int localPort_, remotePort_;
    bool seenOpen_ = false;
};

} // namespace folio::server
