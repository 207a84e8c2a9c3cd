// The server never crashes on a bad request: valid requests mutated (bytes flipped,
// cut short, values swapped for other JSON types), a few hundred of them from a
// fixed seed, each answered with well-formed JSON and a 2xx or 4xx status.
#include "server_process.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <gtest/gtest.h>

#include <random>

using folio::test::HttpAnswer;
using folio::test::ServerProcess;

namespace {

struct Seed {
    const char* path;
    QJsonObject body;
};

std::vector<Seed> seeds()
{
    const QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                          {QStringLiteral("content"), QStringLiteral("The pass key is 58203.")}},
                              QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                          {QStringLiteral("content"), QStringLiteral("What is the pass key?")}}};
    return {
        {"/v1/chat/completions", QJsonObject{{QStringLiteral("model"), QStringLiteral("folio-demo")},
                                             {QStringLiteral("messages"), messages},
                                             {QStringLiteral("max_tokens"), 4},
                                             {QStringLiteral("temperature"), 0.5},
                                             {QStringLiteral("seed"), 7},
                                             {QStringLiteral("stop"), QJsonArray{QStringLiteral("\n")}}}},
        {"/v1/completions", QJsonObject{{QStringLiteral("prompt"), QStringLiteral("Call me Ishmael.")},
                                        {QStringLiteral("max_tokens"), 3},
                                        {QStringLiteral("stream"), false}}},
        {"/tokenize", QJsonObject{{QStringLiteral("content"), QStringLiteral("Call me Ishmael.")}}},
        {"/tokenize", QJsonObject{{QStringLiteral("messages"), messages}}},
    };
}

// Swaps one top-level value for a value of another JSON type (max_tokens stays
// small so that no mutant asks for a long answer).
QJsonObject swapType(QJsonObject body, std::mt19937& rng)
{
    const QStringList keys = body.keys();
    const QString key = keys.at(static_cast<int>(rng() % keys.size()));
    const QJsonValue others[] = {QJsonValue::Null, true, 3, -1, 1e300, QStringLiteral("x"), QJsonArray{1, QStringLiteral("a")},
                                 QJsonObject{{QStringLiteral("role"), 1}}, QJsonArray{}, QString()};
    body[key] = others[rng() % std::size(others)];
    return body;
}

std::string mutate(const QJsonObject& seed, std::mt19937& rng)
{
    std::string text = QJsonDocument(seed).toJson(QJsonDocument::Compact).toStdString();
    switch (rng() % 4) {
    case 0:  // flip a few bytes
        for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i)
            text[rng() % text.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
    case 1:  // cut short
        text.resize(rng() % text.size());
        break;
    case 2:
        text = QJsonDocument(swapType(seed, rng)).toJson(QJsonDocument::Compact).toStdString();
        break;
    default:  // a random byte put in somewhere
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(rng() % text.size()), static_cast<char>(rng() % 256));
        break;
    }
    return text;
}

} // namespace

TEST(ServerMutation, MutatedRequestsGetWellFormedAnswersAndTheServerLives)
{
    ServerProcess server;
    ASSERT_TRUE(server.start({})) << server.stderrText().toStdString();
    const std::vector<Seed> all = seeds();
    std::mt19937 rng(20261203);
    int ok = 0, refused = 0;
    for (int i = 0; i < 300; ++i) {
        const Seed& seed = all[static_cast<std::size_t>(i) % all.size()];
        const std::string body = mutate(seed.body, rng);
        const HttpAnswer a = server.post(seed.path, body);
        ASSERT_NE(a.status, -1) << "no answer (did the server die?) to " << seed.path << " " << body;
        EXPECT_TRUE((a.status >= 200 && a.status < 300) || (a.status >= 400 && a.status < 500))
            << a.status << " for " << body << " -> " << a.body;
        if (a.headers.count("Content-Type") && a.headers.at("Content-Type").find("event-stream") != std::string::npos) {
            EXPECT_NE(a.body.find("data: [DONE]"), std::string::npos) << body;  // a mutant that asked to stream
        } else {
            EXPECT_TRUE(a.isJson()) << body << " -> " << a.body;
            if (a.status >= 400) {
                EXPECT_TRUE(a.json().value(QStringLiteral("error")).toObject().contains(QStringLiteral("message"))) << a.body;
            }
        }
        (a.status < 300 ? ok : refused)++;
    }
    EXPECT_GT(ok, 0);
    EXPECT_GT(refused, 0);
    EXPECT_EQ(server.get("/health").status, 200);
    EXPECT_EQ(server.terminate(), 0) << server.stderrText().toStdString();
}
