// Server-sent events (the WHATWG EventSource format), parsed as the bytes arrive: a
// network read may end anywhere, inside a line, inside an event, between the CR and
// the LF of a line end. Events come out whole, in order, whatever the split.
//
// One extension: llama.cpp's server reports an error inside a stream as a line
// `error: {...}` (a field SSE does not define); it comes out as an event named "error"
// with that JSON as its data, instead of being dropped as an unknown field.
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace folio {

struct SseEvent {
    QByteArray name;  // the `event:` field; empty for the default "message"
    QByteArray data;  // the `data:` lines joined by '\n'
};

class SseParser {
public:
    // Appends to `out` the events these bytes complete.
    void feed(QByteArrayView bytes, QList<SseEvent>& out);
    // True when bytes of an unfinished line or event are held: at the end of a stream
    // that means it was cut.
    bool holdsPartialEvent() const { return !line_.isEmpty() || hasData_; }

private:
    void takeLine(QList<SseEvent>& out);

    QByteArray line_;        // the line read so far, without its end
    bool afterCr_ = false;   // the last byte was a CR: an LF right after belongs to it
    QByteArray name_, data_;
    bool hasData_ = false;
};

} // namespace folio
