// What kind of thing kept a request from its answer. The chat pane, the review and the
// CLI act on the kind (load the model again, read the document again, show the store's
// advice), never on the words of the message, which are for the user.
#pragma once

#include <QMetaType>

namespace folio {

enum class AnswerErrorKind {
    Model,      // no model, a missing or damaged file, a conversation held with another model, the engine
    Document,   // cannot be read, or does not fit (context, memory)
    Store,      // the database
    Cancelled,  // stopped before the answer's first word
    Server,     // an answer server: unreachable, or an error reply
    Request,    // the request itself: an empty question, nothing to answer again, one already running
};

} // namespace folio

Q_DECLARE_METATYPE(folio::AnswerErrorKind)
