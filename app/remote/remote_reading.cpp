#include "app/remote/remote_reading.h"

#include "app/documents/document_loader.h"
#include "app/reading/prompt_builder.h"
#include "app/reading/reading_session.h"
#include "app/store/database.h"
#include "app/store/library_store.h"
#include "app/store/store_error.h"

#include <QFileInfo>

namespace folio {

namespace {

// Each message costs a few template tokens beyond its text (role markers, separators).
constexpr int kTemplateTokensPerMessage = 8;
// Room kept for the answer when the caller sets no limit.
constexpr int kDefaultAnswerReserve = 512;

QString titleFor(const QString& question)
{
    const QString line = question.simplified();
    return line.size() > 80 ? line.left(79) + QStringLiteral("…") : line;
}

} // namespace

struct RemoteReading::Job {
    std::shared_ptr<const Document> document;
    qint64 documentId = 0;
    qint64 conversationId = 0;
    QString question;
    bool again = false;                 // the last question answered again: only an answer is stored
    QVector<ConversationTurn> turns;    // the conversation so far, each question with its newest answer
    int maxTokens = 0;
    double temperature = -1;
    QString model;
    RemoteAnswer answer;
};

RemoteReading::RemoteReading(const ServerProfile& profile, const QString& apiKey, const QString& databasePath,
                             QObject* parent)
    : QObject(parent),
      profile_(profile),
      client_(ServerEndpoint::parse(profile.address).value_or(ServerEndpoint()), apiKey,
              HttpOptions{profile.idleTimeoutSeconds * 1000}),
      databasePath_(databasePath)
{
    connect(&client_, &OpenAiClient::notice, this, &RemoteReading::notice);
}

RemoteReading::~RemoteReading() = default;

QString RemoteReading::answererName(const QString& address, const QString& model)
{
    return QStringLiteral("server %1 · %2").arg(address, model);
}

void RemoteReading::fail(Failure failure, const QString& message)
{
    const RemoteAnswer kept = job_ ? job_->answer : RemoteAnswer();
    end();
    emit failed(failure, message, kept);
}

void RemoteReading::end()
{
    busy_ = false;
    job_.reset();
    if (stream_)
        stream_->deleteLater();
    stream_ = nullptr;
}

void RemoteReading::cancel()
{
    if (!busy_)
        return;
    cancelled_ = true;
    if (stream_)
        stream_->cancel();  // failed(Cancelled) follows, and what had arrived is stored
}

bool RemoteReading::begin(const QString& question, qint64 conversationId, int maxTokens, double temperature)
{
    if (busy_) {
        emit failed(Failure::Server, tr("A question is already being answered."), {});
        return false;
    }
    busy_ = true;
    cancelled_ = false;
    job_ = std::make_shared<Job>();
    job_->conversationId = conversationId;
    job_->question = question.trimmed();
    job_->maxTokens = maxTokens;
    job_->temperature = temperature;
    QString error;
    if (!ServerEndpoint::parse(profile_.address, &error)) {
        fail(Failure::Server, error);
        return false;
    }
    return true;
}

void RemoteReading::ask(const QString& documentPath, const QString& question, qint64 conversationId, int maxTokens,
                        double temperature)
{
    if (!begin(question, conversationId, maxTokens, temperature))
        return;
    try {
        job_->document = std::make_shared<const Document>(DocumentLoader::load(documentPath));
    } catch (const DocumentError& error) {
        return fail(Failure::Document, error.message());
    }
    prepare(job_);
}

void RemoteReading::ask(std::shared_ptr<const Document> document, const QString& question, qint64 conversationId,
                        int maxTokens, double temperature)
{
    if (!begin(question, conversationId, maxTokens, temperature))
        return;
    job_->document = std::move(document);
    prepare(job_);
}

void RemoteReading::answerAgain(std::shared_ptr<const Document> document, qint64 conversationId, int maxTokens,
                                double temperature)
{
    if (!begin(QString(), conversationId, maxTokens, temperature))
        return;
    if (conversationId == 0)
        return fail(Failure::Store, tr("No conversation to answer again."));
    job_->again = true;
    job_->document = std::move(document);
    prepare(job_);
}

void RemoteReading::prepare(std::shared_ptr<Job> job)
{
    try {
        if (!db_)
            db_ = std::make_unique<Database>(databasePath_);
        LibraryStore store(*db_);
        job->documentId = store.rememberDocument(*job->document);
        if (job->conversationId != 0) {
            const ConversationRecord conversation = store.conversation(job->conversationId);
            if (conversation.documentId != job->documentId)
                return fail(Failure::Store, tr("Conversation %1 is about another document, not %2.")
                                                .arg(job->conversationId)
                                                .arg(QFileInfo(job->document->path).fileName()));
            job->turns = conversationTurns(store.messages(job->conversationId));
        }
        if (job->again) {
            // The state before the last question: its turn goes, its question is asked
            // once more, and the earlier answer stays in the store beside the new one.
            if (job->turns.isEmpty())
                return fail(Failure::Store, tr("Conversation %1 has no question to answer again.").arg(job->conversationId));
            job->question = job->turns.takeLast().question;
        }
    } catch (const StoreError& error) {
        return fail(Failure::Store, error.message());
    }
    start(job);
}

void RemoteReading::start(std::shared_ptr<Job> job)
{
    client_.listModels([this, job](const QList<RemoteModel>& models, const std::optional<RemoteError>& error) {
        if (job != job_)
            return;
        if (cancelled_)
            return fail(Failure::Cancelled, tr("Cancelled."));
        if (error)
            return fail(Failure::Server, error->message());
        if (models.isEmpty())
            return fail(Failure::Server, tr("%1: the server lists no models").arg(profile_.address));
        const RemoteModel* chosen = &models.first();
        if (!profile_.model.isEmpty()) {
            chosen = nullptr;
            QStringList ids;
            for (const RemoteModel& m : models) {
                ids.append(m.id);
                if (m.id == profile_.model)
                    chosen = &m;
            }
            if (!chosen)
                return fail(Failure::Server, tr("%1: the server has no model '%2' (it lists: %3)")
                                                 .arg(profile_.address, profile_.model, ids.join(QStringLiteral(", "))));
        }
        send(job, *chosen);
    });
}

void RemoteReading::send(std::shared_ptr<Job> job, const RemoteModel& model)
{
    job->model = model.id;
    ChatRequest request;
    request.model = model.id;
    request.maxTokens = job->maxTokens;
    request.temperature = job->temperature;
    // The document first and always the same: the server's prefix cache keeps it.
    request.messages.append({QStringLiteral("system"), PromptBuilder::documentBlock(*job->document).text()});
    for (const ConversationTurn& turn : job->turns) {
        request.messages.append({QStringLiteral("user"), turn.question});
        if (!turn.answer.isEmpty())
            request.messages.append({QStringLiteral("assistant"), turn.answer});
    }
    request.messages.append({QStringLiteral("user"), job->question});
    QString all;
    for (const RemoteTurn& turn : request.messages)
        all += turn.content;

    client_.countTokens(model.id, all, [this, job, model, request](const TokenCount& count,
                                                                   const std::optional<RemoteError>& error) {
        if (job != job_)
            return;
        if (cancelled_)
            return fail(Failure::Cancelled, tr("Cancelled."));
        if (error)
            return fail(Failure::Server, error->message());
        const int prompt = count.tokens + kTemplateTokensPerMessage * static_cast<int>(request.messages.size());
        job->answer.promptTokens = prompt;
        job->answer.promptTokensEstimated = count.estimated;
        const int context = model.contextLength.value_or(0);
        emit budget(prompt, count.estimated, context);
        const int reserve = job->maxTokens > 0 ? job->maxTokens : kDefaultAnswerReserve;
        if (context > 0 && prompt + reserve > context) {
            return fail(Failure::TooLong,
                        tr("%1: the document and the conversation take %2 tokens (%3) and the answer needs room for "
                           "%4 more, but %5 on %6 gets a context of %7 tokens (%8). Nothing was sent: choose a model "
                           "or server setting with a longer context, or read it with the embedded engine.")
                            .arg(QFileInfo(job->document->path).fileName())
                            .arg(prompt)
                            .arg(count.estimated ? tr("estimated: the server cannot count") : tr("counted by the server"))
                            .arg(reserve)
                            .arg(model.id, profile_.address)
                            .arg(context)
                            .arg(model.contextSource));
        }
        if (context == 0)
            emit notice(tr("%1 does not say how long a context %2 gets; if the server cuts the document, answers "
                           "will miss its beginning.")
                            .arg(profile_.address, model.id));
        stream_ = client_.chat(request);
        connect(stream_, &ChatStream::delta, this, [this, job](const QString& text) {
            job->answer.text += text;
            emit delta(text);
        });
        connect(stream_, &ChatStream::reasoningDelta, this, [this, job](const QString& text) {
            job->answer.reasoning += text;
            emit reasoningDelta(text);
        });
        connect(stream_, &ChatStream::finished, this, [this, job](const QString& finishReason, const ChatUsage& usage) {
            if (usage.promptTokens > 0) {
                job->answer.promptTokens = usage.promptTokens;
                job->answer.promptTokensEstimated = false;
            }
            if (finishReason == QLatin1String("length") && job->maxTokens <= 0)
                emit notice(tr("The server stopped the answer at its length limit."));
            try {
                store(*job);
            } catch (const StoreError& error) {
                return fail(Failure::Store, error.message());
            }
            const RemoteAnswer answer = job->answer;
            end();
            emit finished(answer);
        });
        connect(stream_, &ChatStream::failed, this, [this, job](const RemoteError& error) {
            job->answer.interrupted = true;
            if (!job->answer.text.trimmed().isEmpty()) {
                try {
                    store(*job);  // what had arrived, marked interrupted
                } catch (const StoreError& storeError) {
                    return fail(Failure::Store, storeError.message());
                }
            }
            fail(error.kind == RemoteError::Kind::Cancelled ? Failure::Cancelled
                 : error.kind == RemoteError::Kind::ContextTooLong ? Failure::TooLong
                                                                    : Failure::Server,
                 error.message());
        });
        stream_->start();
    });
}

void RemoteReading::store(Job& job)
{
    job.answer.evidence = evidenceFromText(*job.document, job.answer.text);
    MessageRecord question;
    question.role = MessageRole::User;
    question.text = job.question;
    MessageRecord answer;
    answer.role = MessageRole::Assistant;
    answer.text = job.answer.text.trimmed();
    answer.interrupted = job.answer.interrupted;
    answer.reasoning = job.answer.reasoning.trimmed();
    for (const TextEvidence& e : job.answer.evidence)
        answer.evidence.append(EvidencePage{e.page, e.weight,
                                            e.kind == TextEvidence::Kind::Citation ? EvidenceSource::Citation
                                                                                   : EvidenceSource::TextMatch});
    LibraryStore store(*db_);
    if (job.again) {
        job.answer.conversationId = job.conversationId;
        job.answer.answerId = store.appendMessage(job.conversationId, answer);
        return;
    }
    const TurnRecord turn = store.appendTurn(job.conversationId, question, answer, job.documentId,
                                             answererName(profile_.address, job.model), titleFor(job.question));
    job.answer.conversationId = turn.conversationId;
    job.answer.questionId = turn.questionId;
    job.answer.answerId = turn.answerId;
}

} // namespace folio
