// folio-cli models --local, run as a user would, over a fake home laid out like each
// app's store (tests/app/model_home_fixture.h); the real home is never read.
#include "../app/model_home_fixture.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <gtest/gtest.h>

namespace {

struct CliRun {
    int exitCode = -1;
    QString out;
    QString err;
};

class LocalModelsCli : public ::testing::Test {
protected:
    LocalModelsCli() : home(dir.path()) {}

    CliRun run(QStringList args) const
    {
        args.prepend(QStringLiteral("models"));
        QProcess p;
        p.setProcessEnvironment(home.processEnvironment());
        p.start(QStringLiteral(FOLIO_CLI_PATH), args);
        CliRun r;
        if (!p.waitForFinished(60000)) {
            p.kill();
            ADD_FAILURE() << "folio-cli did not finish";
            return r;
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }

    QJsonObject objectFor(const QJsonArray& models, const QString& path) const
    {
        for (const QJsonValue& v : models)
            if (v.toObject().value(QLatin1String("path")).toString() == path)
                return v.toObject();
        ADD_FAILURE() << "not listed: " << path.toStdString();
        return {};
    }

    QTemporaryDir dir;
    folio::test::FakeModelHome home;
};

} // namespace

TEST_F(LocalModelsCli, JsonDescribesEveryModel)
{
    const CliRun r = run({QStringLiteral("--local"), QStringLiteral("--dir"), home.userFolder, QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonArray models = QJsonDocument::fromJson(r.out.toUtf8()).array();
    EXPECT_EQ(models.size(), 13) << r.out.toStdString();

    const QJsonObject lm = objectFor(models, home.lmStudio);
    const QJsonObject expected{{QStringLiteral("path"), home.lmStudio},
                               {QStringLiteral("name"), QStringLiteral("Tiny Llama")},
                               {QStringLiteral("source"), QStringLiteral("LM Studio")},
                               {QStringLiteral("family"), QStringLiteral("llama")},
                               {QStringLiteral("type"), QStringLiteral("Q4_K_M")},
                               {QStringLiteral("size_bytes"), double(QFileInfo(home.lmStudio).size())},
                               {QStringLiteral("context_length"), 8192},
                               {QStringLiteral("parameters"), double(folio::test::tensorElements(home.lmStudio))},
                               {QStringLiteral("supported"), true},
                               {QStringLiteral("reason"), QJsonValue()},
                               {QStringLiteral("incomplete"), QJsonValue()}};
    EXPECT_EQ(lm, expected) << QJsonDocument(lm).toJson().toStdString();

    const QJsonObject big = objectFor(models, home.splitFirst);
    EXPECT_EQ(big.value(QLatin1String("parts")).toArray().size(), 3);
    EXPECT_EQ(big.value(QLatin1String("parameters")).toDouble(), double(home.splitParameters));
    const QJsonObject broken = objectFor(models, home.brokenFirst);
    EXPECT_EQ(broken.value(QLatin1String("incomplete")).toString(),
              QStringLiteral("part 2 of 3 is missing (broken-00002-of-00003.gguf)"));
    EXPECT_FALSE(broken.value(QLatin1String("supported")).toBool());
    EXPECT_TRUE(broken.value(QLatin1String("parameters")).isNull());
    const QJsonObject cut = objectFor(models, home.truncated);
    EXPECT_FALSE(cut.value(QLatin1String("supported")).toBool());
    EXPECT_TRUE(cut.value(QLatin1String("family")).isNull());
    EXPECT_FALSE(cut.value(QLatin1String("reason")).toString().isEmpty());
    EXPECT_EQ(objectFor(models, home.ollamaBlob).value(QLatin1String("name")).toString(), QStringLiteral("tinyllama:1.1b"));
    EXPECT_EQ(objectFor(models, home.hfSnapshot).value(QLatin1String("name")).toString(), QStringLiteral("TheOwner/Tiny-GGUF"));
}

TEST_F(LocalModelsCli, TableSaysWhatRunsAndWhy)
{
    const CliRun r = run({QStringLiteral("--local"), QStringLiteral("--dir"), home.userFolder});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QStringList lines = r.out.split(u'\n');
    ASSERT_FALSE(lines.isEmpty());
    EXPECT_EQ(lines.front().simplified(), QStringLiteral("NAME APP FAMILY TYPE SIZE CONTEXT FOLIO"));
    const auto row = [&](const QString& name) {
        for (const QString& line : lines)
            if (line.startsWith(name + u' '))
                return line.simplified();
        ADD_FAILURE() << "no row for " << name.toStdString() << " in\n" << r.out.toStdString();
        return QString();
    };
    EXPECT_TRUE(row(QStringLiteral("Tiny Llama")).contains(QLatin1String("LM Studio llama Q4_K_M"))) << r.out.toStdString();
    EXPECT_TRUE(row(QStringLiteral("Tiny Llama")).endsWith(QLatin1String(" 8192 runs"))) << r.out.toStdString();
    EXPECT_TRUE(row(QStringLiteral("Mamba Tiny")).contains(QLatin1String("no: unsupported architecture 'mamba'")));
    EXPECT_TRUE(row(QStringLiteral("broken split")).contains(QLatin1String("no: part 2 of 3 is missing")));
    EXPECT_TRUE(row(QStringLiteral("ghost:latest")).contains(QLatin1String("Ollama - - 0 B - no: the weights file")));
    // The places it searched are the fake home's, and the user's folder.
    const QString searched = r.out.mid(r.out.indexOf(QLatin1String("Searched:")));
    EXPECT_TRUE(searched.contains(home.root + QStringLiteral("/.ollama/models")));
    EXPECT_TRUE(searched.contains(QStringLiteral("Folder  ") + home.userFolder));
    EXPECT_FALSE(searched.contains(QLatin1String("/usr/share/ollama")));
}

TEST_F(LocalModelsCli, SearchSortAndUsage)
{
    CliRun r = run({QStringLiteral("--local"), QStringLiteral("--search"), QStringLiteral("QWEN"),
                    QStringLiteral("--sort"), QStringLiteral("name"), QStringLiteral("--json")});
    ASSERT_EQ(r.exitCode, 0) << r.err.toStdString();
    const QJsonArray qwen = QJsonDocument::fromJson(r.out.toUtf8()).array();
    ASSERT_EQ(qwen.size(), 2);
    EXPECT_EQ(qwen[0].toObject().value(QLatin1String("name")).toString(), QStringLiteral("Qwen2 Tiny"));
    EXPECT_EQ(qwen[1].toObject().value(QLatin1String("name")).toString(), QStringLiteral("Qwen3 Tiny"));

    // Without --dir only the apps' places: the user's folder stays out.
    r = run({QStringLiteral("--local"), QStringLiteral("--json")});
    EXPECT_EQ(QJsonDocument::fromJson(r.out.toUtf8()).array().size(), 9) << r.out.toStdString();

    EXPECT_EQ(run({QStringLiteral("--local"), QStringLiteral("--sort"), QStringLiteral("colour")}).exitCode, 2);
    EXPECT_EQ(run({}).exitCode, 2);  // "models" alone still asks for --endpoint (or --local)
}
