// A question about a document answered by a server instead of the embedded engine.
// The whole document goes to the server as the system message — the same text the
// engine reads (PromptBuilder::documentBlock) and, for every question of a
// conversation, the same bytes, so vLLM's prefix cache and llama.cpp's cache_prompt
// reuse it — followed by the conversation's earlier turns and the question. Before
// anything is sent, the prompt is counted (the server's /tokenize, or an estimate
// said to be one) against the context the server gives the model: a document that
// does not fit is refused with both numbers, never cut. The answer streams; it is
// stored with its question in one transaction (a stopped or broken answer too, marked
// interrupted, with what had arrived), with the server and model that answered and
// evidence pages from its citations and text matches.
//
// Lives on one thread (its client's); the database is opened there, at the first ask.
#pragma once

#include "app/remote/openai_client.h"
#include "app/remote/server_profiles.h"
#include "app/remote/text_evidence.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QVector>

#include <memory>

namespace folio {

class Database;
struct Document;

struct RemoteAnswer {
    qint64 conversationId = 0;  // 0 when nothing was stored
    qint64 questionId = 0;
    qint64 answerId = 0;
    QString text;
    QString reasoning;  // a thinking model's reasoning, kept apart from the answer
    QVector<TextEvidence> evidence;
    bool interrupted = false;
    int promptTokens = 0;
    bool promptTokensEstimated = false;
};

class RemoteReading : public QObject {
    Q_OBJECT
public:
    enum class Failure { Document, Store, Server, TooLong, Cancelled };

    RemoteReading(const ServerProfile& profile, const QString& apiKey, const QString& databasePath,
                  QObject* parent = nullptr);
    ~RemoteReading() override;

    // conversationId 0: a new conversation about the document.
    void ask(const QString& documentPath, const QString& question, qint64 conversationId = 0, int maxTokens = 0,
             double temperature = -1);
    // The same for a document already read (the app's open document).
    void ask(std::shared_ptr<const Document> document, const QString& question, qint64 conversationId = 0,
             int maxTokens = 0, double temperature = -1);
    // The conversation's last question answered again, from the turns before it; the
    // new answer is stored after the earlier one, which stays.
    void answerAgain(std::shared_ptr<const Document> document, qint64 conversationId, int maxTokens = 0,
                     double temperature = -1);
    void cancel();
    bool isBusy() const { return busy_; }
    // What identifies the answerer in the store: "server URL · MODEL".
    static QString answererName(const QString& address, const QString& model);

signals:
    void notice(const QString& message);
    // The prompt's size against the server's context (context 0: the server does not say).
    void budget(int promptTokens, bool estimated, int context);
    void delta(const QString& text);
    void reasoningDelta(const QString& text);  // a thinking model's reasoning_content, apart
    void finished(const folio::RemoteAnswer& answer);
    // `kept` holds what was stored (a partial answer, marked interrupted) or nothing.
    void failed(folio::RemoteReading::Failure failure, const QString& message, const folio::RemoteAnswer& kept);

private:
    struct Job;
    bool begin(const QString& question, qint64 conversationId, int maxTokens, double temperature);
    void prepare(std::shared_ptr<Job> job);  // the store's side, then start()
    void start(std::shared_ptr<Job> job);
    void send(std::shared_ptr<Job> job, const RemoteModel& model);
    void store(Job& job);
    void fail(Failure failure, const QString& message);
    void end();

    ServerProfile profile_;
    OpenAiClient client_;
    QString databasePath_;
    std::unique_ptr<Database> db_;
    std::shared_ptr<Job> job_;
    QPointer<ChatStream> stream_;
    bool busy_ = false;
    bool cancelled_ = false;
};

} // namespace folio

Q_DECLARE_METATYPE(folio::RemoteAnswer)
