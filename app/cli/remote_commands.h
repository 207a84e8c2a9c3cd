#pragma once

#include <QStringList>

class QCommandLineParser;

namespace folio::cli {

// Commands that talk to an OpenAI-compatible server. Exit codes: 0 success, 2 wrong
// usage, 3 the server cannot be used (one line on stderr: "error: URL: what is wrong").
// The API key from the environment variable named by --api-key-env (none when the
// option is absent); false, with *error naming the variable, when it is not set.
bool apiKeyFromEnvironment(const QCommandLineParser& parser, QString* key, QString* error);

int runModels(const QStringList& arguments);  // models --endpoint URL [--api-key-env VAR] [--json]
// ask --endpoint URL [--remote-model ID] [--api-key-env VAR] --doc FILE "QUESTION" [--db PATH]
//     [--conversation ID] [-n N] [--temp T]: the answer streams to stdout and is stored.
// Exit 1 for the document or the store, 3 the server, 4 the document does not fit.
int runRemoteAsk(const QStringList& arguments);

} // namespace folio::cli
