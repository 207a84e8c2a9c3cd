// The venue forms shipped in resources/venues: each loads, validates and says which year
// it describes; the catalog compiled into the app matches the source directory; broken
// files give errors that name the file; the prompt carries every section and scale.
#include "app/review/review_prompt_builder.h"
#include "app/review/venue_form.h"

#include <QDir>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using folio::ReviewPromptBuilder;
using folio::VenueCatalog;
using folio::VenueForm;
using folio::VenueFormError;

namespace {

QString sourceVenueDir() { return QStringLiteral(FOLIO_SOURCE_DIR "/resources/venues"); }

// A minimal valid form with one field replaced, for the error tests.
QByteArray formJson(const QString& scoresJson)
{
    return QStringLiteral(R"({"id": "test", "name": "Test", "form_year": 2025, "source": "made up",
        "sections": [{"id": "summary", "title": "Summary", "instruction": "Say what it is."}],
        "scores": %1})").arg(scoresJson).toUtf8();
}

std::string errorOf(const QByteArray& json)
{
    try {
        VenueForm::fromJson(json, QStringLiteral("venues/test.json"));
    } catch (const VenueFormError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST(VenueForm, EveryShippedFormLoadsAndValidates)
{
    const VenueCatalog catalog = VenueCatalog::fromDirectory(sourceVenueDir());
    EXPECT_EQ(catalog.ids(), (QStringList{"acl", "cvpr", "iclr", "icml", "neurips"}));
    for (const VenueForm& form : catalog.forms()) {
        SCOPED_TRACE(form.id.toStdString());
        EXPECT_GE(form.formYear, 2024);
        EXPECT_FALSE(form.source.isEmpty());
        EXPECT_NE(form.section(QStringLiteral("summary")), nullptr);
        EXPECT_FALSE(form.scores.isEmpty());
        for (const folio::ReviewScore& score : form.scores) {
            EXPECT_GE(score.scale.values.size(), 4);
            EXPECT_FALSE(score.scale.labels.isEmpty());
        }
    }
}

TEST(VenueForm, BuiltInCatalogIsTheSourceDirectory)
{
    const VenueCatalog builtIn = VenueCatalog::builtIn();
    const VenueCatalog source = VenueCatalog::fromDirectory(sourceVenueDir());
    ASSERT_EQ(builtIn.ids(), source.ids());
    for (int i = 0; i < builtIn.forms().size(); ++i) {
        EXPECT_EQ(builtIn.forms()[i].sections.size(), source.forms()[i].sections.size());
        EXPECT_EQ(builtIn.forms()[i].scores.size(), source.forms()[i].scores.size());
    }
    ASSERT_TRUE(builtIn.find(QStringLiteral("NeurIPS")).has_value());
    EXPECT_FALSE(builtIn.find(QStringLiteral("aaai")).has_value());
}

TEST(VenueForm, ScalesMatchTheVenues)
{
    const VenueCatalog catalog = VenueCatalog::builtIn();
    const VenueForm iclr = *catalog.find(QStringLiteral("iclr"));
    const folio::ScoreScale& rating = iclr.score(QStringLiteral("rating"))->scale;
    EXPECT_EQ(rating.values, (QVector<double>{1, 3, 5, 6, 8, 10}));
    EXPECT_FALSE(rating.contains(7));
    EXPECT_EQ(rating.describe(), QStringLiteral("1, 3, 5, 6, 8 or 10"));
    EXPECT_EQ(iclr.score(QStringLiteral("confidence"))->scale.describe(), QStringLiteral("1 to 5"));

    const VenueForm neurips = *catalog.find(QStringLiteral("neurips"));
    EXPECT_EQ(neurips.score(QStringLiteral("rating"))->scale.max(), 10);
    EXPECT_NE(neurips.section(QStringLiteral("limitations")), nullptr);

    const VenueForm acl = *catalog.find(QStringLiteral("acl"));
    const folio::ScoreScale& overall = acl.score(QStringLiteral("overall"))->scale;
    EXPECT_TRUE(overall.contains(3.5));
    EXPECT_FALSE(overall.contains(3.25));
    EXPECT_EQ(overall.describe(), QStringLiteral("1 to 5 in steps of 0.5"));
    EXPECT_EQ(overall.labelFor(3), QStringLiteral("Findings"));
    EXPECT_FALSE(acl.score(QStringLiteral("confidence"))->scale.contains(4.5));

    const VenueForm icml = *catalog.find(QStringLiteral("icml"));
    EXPECT_EQ(icml.score(QStringLiteral("overall"))->scale.describe(), QStringLiteral("1 to 5"));
}

TEST(VenueForm, ErrorsNameTheFileAndTheProblem)
{
    EXPECT_NE(errorOf("{ not json").find("venues/test.json: not valid JSON"), std::string::npos);
    EXPECT_NE(errorOf(formJson("[]")).find("non-empty array \"scores\""), std::string::npos);
    EXPECT_NE(errorOf(formJson(R"([{"id": "r", "title": "R", "instruction": "x", "min": 5, "max": 1,
                                   "labels": [{"value": 1, "label": "low"}]}])"))
                  .find("must be above"),
              std::string::npos);
    EXPECT_NE(errorOf(formJson(R"([{"id": "r", "title": "R", "instruction": "x", "allowed": [1, 3, 5],
                                   "labels": [{"value": 2, "label": "two"}]}])"))
                  .find("score \"r\": label value 2 is not on the scale (1, 3 or 5)"),
              std::string::npos);
    EXPECT_NE(errorOf(formJson(R"([{"id": "r", "title": "Summary", "instruction": "x", "min": 1, "max": 4,
                                   "labels": [{"value": 1, "label": "low"}]}])"))
                  .find("title \"Summary\" is used twice"),
              std::string::npos);
    EXPECT_NE(errorOf(formJson(R"([{"id": "r", "title": "R", "instruction": "x", "min": 1, "max": 2, "step": 0.3,
                                   "labels": [{"value": 1, "label": "low"}]}])"))
                  .find("not a whole number of steps"),
              std::string::npos);
}

TEST(VenueForm, DirectoryErrorNamesTheBadFile)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    QFile good(dir.filePath(QStringLiteral("good.json")));
    ASSERT_TRUE(good.open(QIODevice::WriteOnly));
    good.write(formJson(R"([{"id": "r", "title": "R", "instruction": "x", "min": 1, "max": 4,
                            "labels": [{"value": 1, "label": "low"}]}])"));
    good.close();
    try {
        VenueCatalog::fromDirectory(dir.path());
        FAIL() << "the id does not match the file name";
    } catch (const VenueFormError& e) {
        EXPECT_TRUE(e.message().contains(QStringLiteral("good.json")));
        EXPECT_TRUE(e.message().contains(QStringLiteral("does not match the file name")));
    }
}

TEST(ReviewPromptBuilder, NamesTheVenueEverySectionAndEveryScale)
{
    for (const VenueForm& form : VenueCatalog::builtIn().forms()) {
        SCOPED_TRACE(form.id.toStdString());
        const QString prompt = ReviewPromptBuilder(form).instruction();
        EXPECT_TRUE(prompt.contains(form.name));
        EXPECT_TRUE(prompt.contains(QString::number(form.formYear)));
        EXPECT_TRUE(prompt.contains(QStringLiteral("before they submit")));
        int previous = -1;
        for (const folio::ReviewSection& section : form.sections) {
            const int at = static_cast<int>(prompt.indexOf(QStringLiteral("## ") + section.title + QLatin1Char('\n')));
            EXPECT_GT(at, previous) << section.title.toStdString();   // present, in order
            previous = at;
            EXPECT_TRUE(prompt.contains(section.instruction));
        }
        EXPECT_TRUE(prompt.contains(QStringLiteral("## Scores")));
        for (const folio::ReviewScore& score : form.scores) {
            EXPECT_TRUE(prompt.contains(QStringLiteral("- ") + score.title + QStringLiteral(": ")));
            EXPECT_TRUE(prompt.contains(score.scale.describe())) << score.title.toStdString();
            for (const folio::ScoreScale::Label& label : score.scale.labels)
                EXPECT_TRUE(prompt.contains(label.text)) << label.text.toStdString();
        }
    }
}
