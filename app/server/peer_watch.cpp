#include "app/server/peer_watch.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace folio::server {

namespace {

// "0100007F:1F90" (IPv4, the address as the kernel stores it, hex) or the 32-digit
// IPv6 form: the address text inet_ntop writes, and the port.
bool parseEndpoint(const std::string& field, std::string* address, int* port)
{
    const std::size_t colon = field.find(':');
    if (colon == std::string::npos)
        return false;
    const std::string hex = field.substr(0, colon);
    *port = static_cast<int>(std::strtol(field.c_str() + colon + 1, nullptr, 16));
    unsigned char bytes[16] = {};
    const std::size_t n = hex.size() / 2;
    if (n != 4 && n != 16)
        return false;
    // Each 32-bit word is printed in host (little-endian) order.
    for (std::size_t word = 0; word < n / 4; ++word) {
        const unsigned long value = std::strtoul(hex.substr(word * 8, 8).c_str(), nullptr, 16);
        const uint32_t network = static_cast<uint32_t>(value);
        std::memcpy(bytes + word * 4, &network, 4);
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(n == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text))
        return false;
    *address = text;
    return true;
}

// "::ffff:127.0.0.1" and "127.0.0.1" are one address.
std::string plain(const std::string& address)
{
    const std::string mapped = "::ffff:";
    return address.rfind(mapped, 0) == 0 ? address.substr(mapped.size()) : address;
}

} // namespace

PeerWatch::PeerWatch(std::string localAddress, int localPort, std::string remoteAddress, int remotePort)
    : localAddress_(plain(localAddress)), remoteAddress_(plain(remoteAddress)), localPort_(localPort),
      remotePort_(remotePort)
{
}

PeerWatch::State PeerWatch::read() const
{
    bool readable = false;
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        if (!in)
            continue;
        readable = true;
        std::string line;
        std::getline(in, line);  // the header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            fields >> slot >> local >> remote >> state;
            std::string localAddress, remoteAddress;
            int localPort = 0, remotePort = 0;
            if (!parseEndpoint(local, &localAddress, &localPort) || !parseEndpoint(remote, &remoteAddress, &remotePort))
                continue;
            if (localPort != localPort_ || remotePort != remotePort_ || plain(remoteAddress) != remoteAddress_
                || plain(localAddress) != localAddress_)
                continue;
            // 01 ESTABLISHED; 08 CLOSE_WAIT (the client sent FIN); the others are closing too.
            return state == "01" ? State::Open : State::Closed;
        }
    }
    return readable ? State::Closed : State::Unknown;
}

bool PeerWatch::clientLeft()
{
    const State state = read();
    if (state == State::Open)
        seenOpen_ = true;
    return seenOpen_ && state == State::Closed;
}

} // namespace folio::server
