// folio-bench server: folio-server against the engine in this process, on the same
// model, in one run with the rounds alternating (this machine is shared and noisy):
//   prompt   P random tokens read afresh: the server's time to its first streamed token
//            against the local prefill plus that token's decode;
//   generate G tokens (greedy, through end tokens): the server's rate between its first
//            and last token against the local decode loop;
//   resumed  a question after a document of D tokens already read (the server's
//            in-memory prefix, the app's resumed conversation): time to the first token.
// Prints the medians and the ratios server ÷ local (≥ 0.95 and ≤ 2× are the goals).
#include "bench/bench_util.h"

#include "engine/model/model.h"
#include "engine/session/context_planner.h"
#include "engine/session/sampler.h"
#include "engine/session/session.h"

#include <httplib.h>

#include <QByteArray>
#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace folio::bench {

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<int32_t> randomTokens(std::mt19937& rng, int count, int vocab)
{
    // Clear of the low ids, where control tokens live.
    std::uniform_int_distribution<int32_t> pick(300, vocab - 1);
    std::vector<int32_t> out(static_cast<std::size_t>(count));
    for (int32_t& t : out)
        t = pick(rng);
    return out;
}

struct Timing {
    double firstToken = 0;   // seconds from the request to the first token
    double generate = 0;     // seconds from the first token to the last
    int tokens = 0;          // generated
};

// The local side: what folio-server's worker does, without HTTP.
Timing runLocal(Session& session, const std::vector<int32_t>& keep, const std::vector<int32_t>& rest, int gen)
{
    session.truncate(static_cast<int>(keep.size()));
    const int vocab = session.model().params().vocabSize;
    Sampler sampler(SamplerParams{});  // greedy
    Timing t;
    const Clock::time_point start = Clock::now();
    session.prefill(rest);
    session.decode(sampler.sample(session.logits().data(), vocab, session.tokens()));
    t.firstToken = secondsSince(start);
    const Clock::time_point first = Clock::now();
    for (int i = 1; i < gen; ++i)
        session.decode(sampler.sample(session.logits().data(), vocab, session.tokens()));
    t.generate = secondsSince(first);
    t.tokens = gen;
    return t;
}

class Server {
public:
    Server(const QString& binary, const QString& model, int threads, int context)
    {
        process_.setProgram(binary);
        process_.setArguments({QStringLiteral("--model"), model, QStringLiteral("--port"), QStringLiteral("0"),
                               QStringLiteral("--threads"), QString::number(threads), QStringLiteral("--ctx"),
                               QString::number(context), QStringLiteral("--no-prompt-cache")});
        process_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        process_.start();
        if (!process_.waitForStarted(10000))
            throw std::runtime_error("cannot start " + binary.toStdString());
        while (!process_.canReadLine())
            if (!process_.waitForReadyRead(120000))
                throw std::runtime_error("folio-server did not say its port");
        const QByteArray line = process_.readLine().trimmed();
        port_ = line.mid(line.lastIndexOf(':') + 1).toInt();
        if (port_ <= 0)
            throw std::runtime_error("folio-server said: " + line.toStdString());
    }
    ~Server()
    {
        process_.terminate();
        if (!process_.waitForFinished(10000))
            process_.kill();
    }

    // A streamed completion of these token ids, timed at its first and last text event.
    Timing complete(const std::vector<int32_t>& prompt, int gen) const
    {
        QJsonArray ids;
        for (int32_t t : prompt)
            ids.append(t);
        const QJsonObject body{{QStringLiteral("prompt"), ids},        {QStringLiteral("max_tokens"), gen},
                               {QStringLiteral("temperature"), 0},     {QStringLiteral("ignore_eos"), true},
                               {QStringLiteral("stream"), true},       {QStringLiteral("stream_options"),
                                                                         QJsonObject{{QStringLiteral("include_usage"), true}}}};
        httplib::Client client("127.0.0.1", port_);
        client.set_read_timeout(600, 0);
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.body = QJsonDocument(body).toJson(QJsonDocument::Compact).toStdString();
        req.set_header("Content-Type", "application/json");
        Timing t;
        std::string buffer;
        Clock::time_point first{}, last{};
        const Clock::time_point start = Clock::now();
        req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
            buffer.append(data, length);
            for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
                const std::string event = buffer.substr(0, end);
                buffer.erase(0, end + 2);
                if (event.rfind("data: {", 0) != 0)
                    continue;
                const QJsonObject o = QJsonDocument::fromJson(QByteArray::fromStdString(event.substr(6))).object();
                const QJsonArray choices = o.value(QStringLiteral("choices")).toArray();
                if (!choices.isEmpty() && !choices[0].toObject().value(QStringLiteral("text")).toString().isEmpty()) {
                    if (first == Clock::time_point{})
                        first = Clock::now();
                    last = Clock::now();
                }
                const int done = o.value(QStringLiteral("usage")).toObject().value(QStringLiteral("completion_tokens")).toInt(0);
                if (done > 0)
                    t.tokens = done;
            }
            return true;
        };
        httplib::Response res;
        httplib::Error error = httplib::Error::Success;
        if (!client.send(req, res, error) || t.tokens == 0 || first == Clock::time_point{})
            throw std::runtime_error("folio-server's completion failed (HTTP " + std::to_string(res.status) + ")");
        t.firstToken = std::chrono::duration<double>(first - start).count();
        t.generate = std::chrono::duration<double>(last - first).count();
        return t;
    }

private:
    QProcess process_;
    int port_ = 0;
};

} // namespace

int runServerBenchMain(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    const Options options = parseOptions(argc, argv);
    const std::string modelPath = option(options, "model", "");
    const int prompt = std::stoi(option(options, "prompt", "512"));
    const int gen = std::stoi(option(options, "gen", "128"));
    const int doc = std::stoi(option(options, "doc", "1536"));
    const int question = std::stoi(option(options, "question", "24"));
    const int threads = std::stoi(option(options, "threads", "0"));
    const int repeats = std::max(1, std::stoi(option(options, "repeats", "3")));
    const QString binary = QString::fromStdString(option(
        options, "server",
        (QFileInfo(QCoreApplication::applicationDirPath() + QStringLiteral("/../app/server/folio-server")).absoluteFilePath())
            .toStdString()));

    const auto model = Model::load(modelPath);
    const int context = std::max(prompt, doc + question) + gen + 8;
    // The shape folio-server gives a request of this size (--ctx C: none within the
    // trained length, else the planner's choice), so both sides read alike.
    PlanRequest request;
    request.tokens = context;
    request.threads = threads;
    request.method = context <= model->params().contextLength ? ExtensionMethod::None : ExtensionMethod::Auto;
    SessionOptions shape = planContext(*model, request).options;
    shape.threads = threads;
    Session session(model, shape);
    const Server server(binary, QString::fromStdString(modelPath), threads, context);

    std::mt19937 rng(7);
    const int vocab = model->params().vocabSize;
    std::vector<double> ppLocal, ppServer, tgLocal, tgServer, resumedLocal, resumedServer;
    for (int round = 0; round < repeats; ++round) {
        // A prompt of its own each round: nothing is reused.
        const std::vector<int32_t> fresh = randomTokens(rng, prompt, vocab);
        const Timing l = runLocal(session, {}, fresh, gen);
        const Timing s = server.complete(randomTokens(rng, prompt, vocab), gen);
        ppLocal.push_back(prompt / l.firstToken);
        ppServer.push_back(prompt / s.firstToken);
        tgLocal.push_back((l.tokens - 1) / l.generate);
        tgServer.push_back((s.tokens - 1) / s.generate);

        // A document read once, then a question about it on each side.
        const std::vector<int32_t> document = randomTokens(rng, doc, vocab);
        std::vector<int32_t> first = document, second = document;
        const std::vector<int32_t> q1 = randomTokens(rng, question, vocab), q2 = randomTokens(rng, question, vocab);
        first.insert(first.end(), q1.begin(), q1.end());
        second.insert(second.end(), q2.begin(), q2.end());
        runLocal(session, {}, first, 1);
        session.truncate(doc);  // the state the app resumes a conversation from
        resumedLocal.push_back(runLocal(session, document, q2, 1).firstToken);
        server.complete(first, 1);
        resumedServer.push_back(server.complete(second, 1).firstToken);
        std::fprintf(stderr, "round %d: pp %.1f / %.1f t/s, tg %.1f / %.1f t/s, resumed first token %.3f / %.3f s (local / server)\n",
                     round + 1, ppLocal.back(), ppServer.back(), tgLocal.back(), tgServer.back(), resumedLocal.back(),
                     resumedServer.back());
    }
    std::printf("folio-bench server: %s, %d threads, %d rounds alternating, context %d (%s)\n", modelPath.c_str(),
                threads, repeats, context, session.extensionDescription().c_str());
    std::printf("  prompt %4d   local %7.1f t/s   folio-server %7.1f t/s   server/local %.3f\n", prompt,
                median(ppLocal), median(ppServer), median(ppServer) / median(ppLocal));
    std::printf("  generate %4d local %7.1f t/s   folio-server %7.1f t/s   server/local %.3f\n", gen, median(tgLocal),
                median(tgServer), median(tgServer) / median(tgLocal));
    std::printf("  first token after a %d-token document: local resumed %.3f s   folio-server %.3f s   server/local %.2f\n",
                doc, median(resumedLocal), median(resumedServer), median(resumedServer) / median(resumedLocal));
    return 0;
}

} // namespace folio::bench
