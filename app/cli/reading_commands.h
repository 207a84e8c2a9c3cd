#pragma once

#include <QStringList>

namespace folio::cli {

// The reading workflow from the command line, through the same worker the GUI uses.
// Each returns the exit code: 0 success, 1 failure, 2 wrong usage, 130 cancelled.
int runAsk(const QStringList& arguments);            // ask --model M --doc F "question" [--conversation ID] [--db P]
int runConversations(const QStringList& arguments);  // conversations [--db P]
int runShow(const QStringList& arguments);           // show ID [--db P]
int runDelete(const QStringList& arguments);         // delete ID [--db P]
int runBenchResume(const QStringList& arguments);    // bench-resume --model M --doc F [--db P]
int runBenchResumeMain(int argc, char** argv);      // the same with its own QCoreApplication (folio-bench resume)

} // namespace folio::cli
