// folio-cli's model commands, run as a user would, on small models the tests write.
#include "engine/model/model.h"
#include "engine/tokenizer/tokenizer.h"
#include "support/shared_data.h"
#include "../engine/reference_llama.h"
#include "../engine/test_models.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

struct CliRun {
    int exitCode = -1;
    QString out;
    QString err;
};

CliRun runCli(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(FOLIO_CLI_PATH), args);
    CliRun r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        ADD_FAILURE() << "folio-cli did not finish";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

class ModelCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        folio::test::TinyModelSpec spec;
        spec.type = folio::GgmlType::F32;
        model = QString::fromStdString(folio::test::writeTinyModel(spec, dir.filePath(QStringLiteral("tiny.gguf")).toStdString()));
        text = dir.filePath(QStringLiteral("text.txt"));
        QFile f(text);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("abcabcdefg hijk abcabcabc lmnop qrs abc tuv wxyz abcabc defdef ghi jkl mno pqr stu vwx yza bcd");
    }
    QTemporaryDir dir;
    QString model;
    QString text;
};

} // namespace

TEST_F(ModelCli, ModelInfoJson)
{
    const CliRun r = runCli({QStringLiteral("model-info"), model, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    EXPECT_EQ(o.value(QStringLiteral("architecture")).toString(), QStringLiteral("llama"));
    EXPECT_EQ(o.value(QStringLiteral("layers")).toInt(), 2);
    EXPECT_EQ(o.value(QStringLiteral("family")).toString(), QStringLiteral("Llama"));
    EXPECT_EQ(o.value(QStringLiteral("layerPattern")).toString(), QStringLiteral("2 global"));
    EXPECT_EQ(o.value(QStringLiteral("activeParameters")).toDouble(), o.value(QStringLiteral("parameters")).toDouble());
    EXPECT_EQ(o.value(QStringLiteral("contextLength")).toInt(), 256);
    EXPECT_EQ(o.value(QStringLiteral("kvHeads")).toInt(), 2);
    EXPECT_GT(o.value(QStringLiteral("tensorTypes")).toObject().value(QStringLiteral("f32")).toInt(), 10);
    EXPECT_EQ(o.value(QStringLiteral("vocabulary")).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("spm"));
    EXPECT_FALSE(o.value(QStringLiteral("chatTemplateDescription")).toString().isEmpty());
    const CliRun text = runCli({QStringLiteral("model-info"), model});
    EXPECT_EQ(text.exitCode, 0);
    EXPECT_TRUE(text.out.contains(QStringLiteral("Trained context: 256 tokens"))) << text.out.toStdString();
}

TEST_F(ModelCli, DamagedModelIsAOneLineError)
{
    QFile whole(model);
    ASSERT_TRUE(whole.open(QIODevice::ReadOnly));
    const QByteArray bytes = whole.readAll();
    const QString cut = dir.filePath(QStringLiteral("cut.gguf"));
    QFile f(cut);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(bytes.left(bytes.size() / 2));
    f.close();
    const CliRun r = runCli({QStringLiteral("model-info"), cut});
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_TRUE(r.err.startsWith(QStringLiteral("error: ") + cut)) << r.err.toStdString();
    EXPECT_EQ(r.err.count(QChar(u'\n')), 1);
}

TEST_F(ModelCli, TokenizeMatchesTheEngine)
{
    const CliRun r = runCli({QStringLiteral("tokenize"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                             QStringLiteral("--add-bos")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const auto loaded = folio::Model::load(model.toStdString());
    QFile f(text);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const std::vector<int32_t> ids = loaded->tokenizer().encode(f.readAll().toStdString(), true, false);
    QStringList expected;
    for (int32_t id : ids)
        expected << QString::number(id);
    EXPECT_EQ(r.out, expected.join(QChar(u' ')) + QChar(u'\n'));
}

TEST_F(ModelCli, TokenizeWithAVocabularyOnlyFile)
{
    FOLIO_REQUIRE_SHARED("vocab/ggml-vocab-llama-bpe.gguf");
    // "Hello world" in Llama 3's vocabulary.
    QFile f(text);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write("Hello world");
    f.close();
    const QString vocab = QString::fromStdString((folio::test::sharedDir() / "vocab/ggml-vocab-llama-bpe.gguf").string());
    const CliRun r = runCli({QStringLiteral("tokenize"), QStringLiteral("--model"), vocab, QStringLiteral("--file"), text});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_EQ(r.out, QStringLiteral("9906 1917\n"));
}

TEST_F(ModelCli, LogitsFileMatchesTheNaiveReference)
{
    const QString out = dir.filePath(QStringLiteral("logits.bin"));
    const CliRun r = runCli({QStringLiteral("logits"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                             QStringLiteral("--out"), out, QStringLiteral("--threads"), QStringLiteral("2")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    QFile f(out);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    int32_t header[3];
    ASSERT_GE(bytes.size(), qsizetype(sizeof header));
    std::memcpy(header, bytes.constData(), sizeof header);
    const int n = header[0], vocab = header[1], rows = header[2];
    EXPECT_EQ(vocab, 96);
    EXPECT_EQ(rows, n);
    ASSERT_EQ(bytes.size(), qsizetype(12 + 4 * n + 4 * qsizetype(rows) * vocab));
    std::vector<int32_t> tokens(n);
    std::memcpy(tokens.data(), bytes.constData() + 12, 4 * n);
    EXPECT_EQ(tokens.front(), 1) << "BOS first, as the model's metadata says";
    const auto* logits = reinterpret_cast<const float*>(bytes.constData() + 12 + 4 * n);

    const auto reference = folio::test::ReferenceLlama(model.toStdString()).logits(tokens);
    for (int t = 0; t < n; ++t) {
        float maxAbs = 0, maxDiff = 0;
        for (int v = 0; v < vocab; ++v) {
            maxAbs = std::max(maxAbs, std::fabs(reference[t][v]));
            maxDiff = std::max(maxDiff, std::fabs(reference[t][v] - logits[t * vocab + v]));
        }
        // As in the forward-pass tests: F16 KV cache rounding, relative to the largest logit.
        EXPECT_LE(maxDiff, 2e-3f * std::max(1.0f, maxAbs)) << "position " << t;
    }

    const QString lastOut = dir.filePath(QStringLiteral("last.bin"));
    ASSERT_EQ(runCli({QStringLiteral("logits"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                      QStringLiteral("--out"), lastOut, QStringLiteral("--last"), QStringLiteral("1")}).exitCode, 0);
    QFile lf(lastOut);
    ASSERT_TRUE(lf.open(QIODevice::ReadOnly));
    const QByteArray last = lf.readAll();
    ASSERT_EQ(last.size(), qsizetype(12 + 4 * n + 4 * vocab));
    const auto* lastRow = reinterpret_cast<const float*>(last.constData() + 12 + 4 * n);
    for (int v = 0; v < vocab; ++v)
        EXPECT_NEAR(lastRow[v], logits[(n - 1) * vocab + v], 1e-4f);
}

TEST_F(ModelCli, PerplexityCountsWindowsAndTokens)
{
    const CliRun r = runCli({QStringLiteral("perplexity"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                             QStringLiteral("--ctx"), QStringLiteral("16"), QStringLiteral("--stride"), QStringLiteral("8")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("perplexity: "))) << r.out.toStdString();
    const auto loaded = folio::Model::load(model.toStdString());
    QFile f(text);
    ASSERT_TRUE(f.open(QIODevice::ReadOnly));
    const int tokens = int(loaded->tokenizer().encode(f.readAll().toStdString(), false, false).size());
    // Windows hold BOS + 15 text tokens; the first scores all 15, each later one its 8 new.
    const int windows = (tokens - 15) / 8 + 1;
    EXPECT_TRUE(r.out.contains(QStringLiteral("windows: %1\n").arg(windows))) << r.out.toStdString();
    EXPECT_TRUE(r.out.contains(QStringLiteral("tokens scored: %1\n").arg(15 + (windows - 1) * 8))) << r.out.toStdString();
    const double ppl = r.out.section(QStringLiteral("perplexity: "), 1).section(QChar(u'\n'), 0, 0).toDouble();
    EXPECT_GT(ppl, 1.0);
    EXPECT_LT(ppl, 1e6);

    const CliRun tooShort = runCli({QStringLiteral("perplexity"), QStringLiteral("--model"), model, QStringLiteral("--file"),
                                    text, QStringLiteral("--ctx"), QStringLiteral("100000")});
    EXPECT_EQ(tooShort.exitCode, 1);
    EXPECT_TRUE(tooShort.err.contains(QStringLiteral("fewer than one window"))) << tooShort.err.toStdString();
}

TEST_F(ModelCli, GreedyGenerationIsRepeatable)
{
    const QStringList args{QStringLiteral("generate"), QStringLiteral("--model"), model, QStringLiteral("--prompt"),
                           QStringLiteral("abc"), QStringLiteral("-n"), QStringLiteral("12"), QStringLiteral("--temp"),
                           QStringLiteral("0")};
    const CliRun first = runCli(args);
    ASSERT_EQ(first.exitCode, 0) << first.err.toStdString();
    EXPECT_TRUE(first.out.endsWith(QChar(u'\n')));
    EXPECT_EQ(runCli(args).out, first.out);
    const CliRun chat = runCli(args + QStringList{QStringLiteral("--chat")});
    EXPECT_EQ(chat.exitCode, 0) << chat.err.toStdString();
    EXPECT_TRUE(chat.err.contains(QStringLiteral("chat template: "))) << chat.err.toStdString();
}

TEST_F(ModelCli, UsageErrorsExitWithTwo)
{
    EXPECT_EQ(runCli({QStringLiteral("logits"), QStringLiteral("--model"), model}).exitCode, 2);
    EXPECT_EQ(runCli({QStringLiteral("perplexity"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                      QStringLiteral("--ctx"), QStringLiteral("x")}).exitCode, 2);
}

TEST_F(ModelCli, ContextOptionsReachTheEngine)
{
    // DCA with a chunk larger than the text changes nothing (notes/dca.md §4); a tiny
    // chunk and YaRN scaling change the logits; a bad value is a usage error.
    auto lastRow = [&](const QStringList& extra) {
        const QString out = dir.filePath(QStringLiteral("ctx.bin"));
        const CliRun r = runCli(QStringList{QStringLiteral("logits"), QStringLiteral("--model"), model,
                                            QStringLiteral("--file"), text, QStringLiteral("--out"), out,
                                            QStringLiteral("--last"), QStringLiteral("1")}
                                + extra);
        EXPECT_EQ(r.exitCode, 0) << r.err.toStdString();
        QFile f(out);
        EXPECT_TRUE(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        int32_t header[3] = {0, 0, 0};
        std::memcpy(header, bytes.constData(), sizeof header);
        const auto* row = reinterpret_cast<const float*>(bytes.constData() + 12 + 4 * header[0]);
        return std::vector<float>(row, row + header[1]);
    };
    auto maxDiff = [](const std::vector<float>& a, const std::vector<float>& b) {
        float d = 0;
        for (std::size_t i = 0; i < a.size(); ++i)
            d = std::max(d, std::fabs(a[i] - b[i]));
        return d;
    };
    const std::vector<float> plain = lastRow({QStringLiteral("--kv-type"), QStringLiteral("f32")});
    EXPECT_LT(maxDiff(plain, lastRow({QStringLiteral("--dca"), QStringLiteral("--dca-chunk"), QStringLiteral("200"),
                                      QStringLiteral("--kv-type"), QStringLiteral("f32")})),
              1e-4f);
    EXPECT_GT(maxDiff(plain, lastRow({QStringLiteral("--dca"), QStringLiteral("--dca-chunk"), QStringLiteral("8"),
                                      QStringLiteral("--dca-window"), QStringLiteral("2"), QStringLiteral("--ubatch"),
                                      QStringLiteral("5")})),
              1e-3f);
    EXPECT_GT(maxDiff(plain, lastRow({QStringLiteral("--rope-scaling"), QStringLiteral("yarn"),
                                      QStringLiteral("--rope-scale"), QStringLiteral("4")})),
              1e-3f);
    const CliRun bad = runCli({QStringLiteral("logits"), QStringLiteral("--model"), model, QStringLiteral("--file"), text,
                               QStringLiteral("--out"), dir.filePath(QStringLiteral("x.bin")),
                               QStringLiteral("--rope-scaling"), QStringLiteral("dynamic")});
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_TRUE(bad.err.contains(QStringLiteral("dynamic"))) << bad.err.toStdString();
    const CliRun window = runCli({QStringLiteral("logits"), QStringLiteral("--model"), model, QStringLiteral("--file"),
                                  text, QStringLiteral("--out"), dir.filePath(QStringLiteral("x.bin")),
                                  QStringLiteral("--dca-chunk"), QStringLiteral("8"), QStringLiteral("--dca-window"),
                                  QStringLiteral("8")});
    EXPECT_EQ(window.exitCode, 2);
}

TEST_F(ModelCli, PlanReportsMethodMemoryAndRefusal)
{
    const CliRun within = runCli({QStringLiteral("plan"), QStringLiteral("--model"), model, QStringLiteral("--tokens"),
                                  QStringLiteral("200"), QStringLiteral("--json")});
    ASSERT_EQ(within.exitCode, 0) << within.err.toStdString();
    const QJsonObject o = QJsonDocument::fromJson(within.out.toUtf8()).object();
    EXPECT_EQ(o.value(QStringLiteral("method")).toString(), QStringLiteral("none"));
    EXPECT_TRUE(o.value(QStringLiteral("fits")).toBool());
    const CliRun beyond = runCli({QStringLiteral("plan"), QStringLiteral("--model"), model, QStringLiteral("--tokens"),
                                  QStringLiteral("100000")});
    ASSERT_EQ(beyond.exitCode, 0) << beyond.err.toStdString();
    EXPECT_TRUE(beyond.out.contains(QStringLiteral("method:     dca"))) << beyond.out.toStdString();
    const CliRun tight = runCli({QStringLiteral("plan"), QStringLiteral("--model"), model, QStringLiteral("--tokens"),
                                 QStringLiteral("100000000"), QStringLiteral("--available-mib"), QStringLiteral("64")});
    EXPECT_EQ(tight.exitCode, 1);
    EXPECT_TRUE(tight.out.contains(QStringLiteral("fits:       no"))) << tight.out.toStdString();
    EXPECT_TRUE(tight.out.contains(QStringLiteral("suggestion: a shorter range"))) << tight.out.toStdString();
}
