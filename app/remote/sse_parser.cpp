#include "app/remote/sse_parser.h"

namespace folio {

void SseParser::feed(QByteArrayView bytes, QList<SseEvent>& out)
{
    for (const char c : bytes) {
        if (afterCr_) {
            afterCr_ = false;
            if (c == '\n')
                continue;  // the LF of a CR LF pair split across reads
        }
        if (c == '\r' || c == '\n') {
            afterCr_ = c == '\r';
            takeLine(out);
        } else {
            line_.append(c);
        }
    }
}

void SseParser::takeLine(QList<SseEvent>& out)
{
    const QByteArray line = std::exchange(line_, {});
    if (line.isEmpty()) {  // a blank line ends the event
        if (hasData_) {
            if (data_.endsWith('\n'))
                data_.chop(1);
            out.append(SseEvent{std::exchange(name_, {}), std::exchange(data_, {})});
        }
        name_.clear();
        hasData_ = false;
        return;
    }
    if (line.startsWith(':'))
        return;  // a comment (servers send them as keep-alives)
    const qsizetype colon = line.indexOf(':');
    const QByteArray field = colon < 0 ? line : line.left(colon);
    QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1);
    if (value.startsWith(' '))
        value.remove(0, 1);
    if (field == "data") {
        data_ += value;
        data_ += '\n';
        hasData_ = true;
    } else if (field == "event") {
        name_ = value;
    } else if (field == "error") {  // llama.cpp's in-stream error
        name_ = "error";
        data_ += value;
        data_ += '\n';
        hasData_ = true;
    }
    // id and retry matter to a browser reconnecting; a completion is never resumed.
}

} // namespace folio
