// Failures the user was shown, appended to a log file under the app data directory
// (QStandardPaths::AppDataLocation/folio.log) so that a bug report can include them.
#pragma once

#include <QString>

namespace folio {

class ErrorLog {
public:
    static QString path();
    // Appends "<ISO time> <context>: <message>"; never throws (a log that cannot be
    // written is not worth a second error).
    static void append(const QString& context, const QString& message);
    static QString lastEntry();   // the last line, for tests and the About box
};

} // namespace folio
