#include "app/review/venue_form.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace folio {

namespace {

constexpr double kValueTolerance = 1e-6;
constexpr int kMaxScaleValues = 100;

bool sameValue(double a, double b) { return std::fabs(a - b) < kValueTolerance; }

QString number(double value) { return QString::number(value, 'g', 6); }

// Reads one form object, throwing with `origin` and the place in the file on each problem.
class FormReader {
public:
    explicit FormReader(QString origin) : m_origin(std::move(origin)) {}

    [[noreturn]] void fail(const QString& what) const
    {
        throw VenueFormError(QStringLiteral("%1: %2").arg(m_origin, what));
    }

    QString requiredString(const QJsonObject& object, const QString& key, const QString& where) const
    {
        const QJsonValue value = object.value(key);
        if (!value.isString() || value.toString().trimmed().isEmpty())
            fail(QStringLiteral("%1 needs a non-empty string \"%2\"").arg(where, key));
        return value.toString().trimmed();
    }

    QString optionalString(const QJsonObject& object, const QString& key, const QString& where) const
    {
        const QJsonValue value = object.value(key);
        if (value.isUndefined() || value.isNull())
            return {};
        if (!value.isString())
            fail(QStringLiteral("%1: \"%2\" must be a string").arg(where, key));
        return value.toString().trimmed();
    }

    QJsonArray requiredArray(const QJsonObject& object, const QString& key, const QString& where) const
    {
        const QJsonValue value = object.value(key);
        if (!value.isArray() || value.toArray().isEmpty())
            fail(QStringLiteral("%1 needs a non-empty array \"%2\"").arg(where, key));
        return value.toArray();
    }

    double requiredNumber(const QJsonObject& object, const QString& key, const QString& where) const
    {
        const QJsonValue value = object.value(key);
        if (!value.isDouble() || !std::isfinite(value.toDouble()))
            fail(QStringLiteral("%1 needs a number \"%2\"").arg(where, key));
        return value.toDouble();
    }

    ScoreScale scale(const QJsonObject& object, const QString& where) const
    {
        ScoreScale scale;
        if (object.contains(QStringLiteral("allowed"))) {
            scale.listed = true;
            for (const QJsonValue& value : requiredArray(object, QStringLiteral("allowed"), where)) {
                if (!value.isDouble())
                    fail(QStringLiteral("%1: \"allowed\" must hold numbers only").arg(where));
                if (!scale.values.isEmpty() && value.toDouble() <= scale.values.back() + kValueTolerance)
                    fail(QStringLiteral("%1: \"allowed\" values must increase").arg(where));
                scale.values.append(value.toDouble());
            }
        } else {
            const double min = requiredNumber(object, QStringLiteral("min"), where);
            const double max = requiredNumber(object, QStringLiteral("max"), where);
            const double step = object.contains(QStringLiteral("step"))
                                    ? requiredNumber(object, QStringLiteral("step"), where) : 1.0;
            if (!(max > min))
                fail(QStringLiteral("%1: \"max\" (%2) must be above \"min\" (%3)").arg(where, number(max), number(min)));
            if (!(step > 0))
                fail(QStringLiteral("%1: \"step\" must be positive").arg(where));
            const double steps = (max - min) / step;
            if (std::fabs(steps - std::round(steps)) > kValueTolerance || steps + 1 > kMaxScaleValues)
                fail(QStringLiteral("%1: %2 to %3 is not a whole number of steps of %4 (at most %5 values)")
                         .arg(where, number(min), number(max), number(step)).arg(kMaxScaleValues));
            for (int i = 0; i <= static_cast<int>(std::lround(steps)); ++i)
                scale.values.append(min + i * step);
        }
        for (const QJsonValue& item : requiredArray(object, QStringLiteral("labels"), where)) {
            const QJsonObject label = item.toObject();
            const double value = requiredNumber(label, QStringLiteral("value"), where + QStringLiteral(" label"));
            const QString text = requiredString(label, QStringLiteral("label"), where + QStringLiteral(" label"));
            if (!scale.contains(value))
                fail(QStringLiteral("%1: label value %2 is not on the scale (%3)").arg(where, number(value), scale.describe()));
            for (const ScoreScale::Label& earlier : scale.labels)
                if (sameValue(earlier.value, value))
                    fail(QStringLiteral("%1: value %2 has two labels").arg(where, number(value)));
            scale.labels.append({value, text});
        }
        return scale;
    }

private:
    QString m_origin;
};

// Titles are how the parser finds sections and scores in an answer, so no two may
// look the same once case and punctuation are ignored.
QString titleKey(const QString& title)
{
    return title.toLower().remove(QRegularExpression(QStringLiteral("[^a-z0-9]")));
}

} // namespace

VenueFormError::VenueFormError(const QString& message)
    : m_message(message), m_utf8(message.toUtf8())
{
}

bool ScoreScale::contains(double value) const
{
    return std::any_of(values.begin(), values.end(), [&](double v) { return sameValue(v, value); });
}

QString ScoreScale::labelFor(double value) const
{
    for (const Label& label : labels)
        if (sameValue(label.value, value))
            return label.text;
    return {};
}

bool ScoreScale::isRange() const
{
    if (listed || values.size() < 3)
        return false;
    const double step = values[1] - values[0];
    for (int i = 2; i < values.size(); ++i)
        if (!sameValue(values[i] - values[i - 1], step))
            return false;
    return true;
}

QString ScoreScale::describe() const
{
    if (values.isEmpty())
        return {};
    if (isRange()) {
        const double step = values[1] - values[0];
        QString text = QStringLiteral("%1 to %2").arg(number(min()), number(max()));
        if (!sameValue(step, 1.0))
            text += QStringLiteral(" in steps of %1").arg(number(step));
        return text;
    }
    QStringList parts;
    for (double value : values)
        parts << number(value);
    const QString last = parts.takeLast();
    return parts.isEmpty() ? last : parts.join(QStringLiteral(", ")) + QStringLiteral(" or ") + last;
}

const ReviewSection* VenueForm::section(const QString& sectionId) const
{
    for (const ReviewSection& s : sections)
        if (s.id == sectionId)
            return &s;
    return nullptr;
}

const ReviewScore* VenueForm::score(const QString& scoreId) const
{
    for (const ReviewScore& s : scores)
        if (s.id == scoreId)
            return &s;
    return nullptr;
}

VenueForm VenueForm::fromJson(const QByteArray& json, const QString& origin)
{
    const FormReader reader(origin);
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        reader.fail(QStringLiteral("not valid JSON at byte %1: %2").arg(parseError.offset).arg(parseError.errorString()));
    if (!document.isObject())
        reader.fail(QStringLiteral("the top level must be an object"));
    const QJsonObject root = document.object();
    const QString top = QStringLiteral("the form");

    VenueForm form;
    form.id = reader.requiredString(root, QStringLiteral("id"), top);
    if (!QRegularExpression(QStringLiteral("^[a-z0-9_-]+$")).match(form.id).hasMatch())
        reader.fail(QStringLiteral("id \"%1\" must be lower-case letters, digits, '-' or '_'").arg(form.id));
    form.name = reader.requiredString(root, QStringLiteral("name"), top);
    form.fullName = reader.optionalString(root, QStringLiteral("full_name"), top);
    const double year = reader.requiredNumber(root, QStringLiteral("form_year"), top);
    if (year < 1980 || year > 2100 || year != std::floor(year))
        reader.fail(QStringLiteral("form_year %1 is not a year").arg(number(year)));
    form.formYear = static_cast<int>(year);
    form.formDate = reader.optionalString(root, QStringLiteral("form_date"), top);
    form.source = reader.requiredString(root, QStringLiteral("source"), top);
    form.sourceUrl = reader.optionalString(root, QStringLiteral("source_url"), top);
    form.notes = reader.optionalString(root, QStringLiteral("notes"), top);
    for (const QJsonValue& value : root.value(QStringLiteral("unconfirmed")).toArray()) {
        if (!value.isString())
            reader.fail(QStringLiteral("\"unconfirmed\" must hold strings"));
        form.unconfirmed << value.toString();
    }

    QSet<QString> ids;
    QSet<QString> titles;
    auto claim = [&](const QString& id, const QString& title, const QString& where) {
        if (ids.contains(id))
            reader.fail(QStringLiteral("%1: id \"%2\" is used twice").arg(where, id));
        if (titles.contains(titleKey(title)))
            reader.fail(QStringLiteral("%1: title \"%2\" is used twice").arg(where, title));
        ids.insert(id);
        titles.insert(titleKey(title));
    };

    const QJsonArray sections = reader.requiredArray(root, QStringLiteral("sections"), top);
    for (int i = 0; i < sections.size(); ++i) {
        const QString where = QStringLiteral("section %1").arg(i + 1);
        if (!sections[i].isObject())
            reader.fail(where + QStringLiteral(" must be an object"));
        const QJsonObject object = sections[i].toObject();
        ReviewSection section;
        section.id = reader.requiredString(object, QStringLiteral("id"), where);
        section.title = reader.requiredString(object, QStringLiteral("title"), where);
        section.instruction = reader.requiredString(object, QStringLiteral("instruction"), where);
        claim(section.id, section.title, where);
        form.sections.append(section);
    }

    const QJsonArray scores = reader.requiredArray(root, QStringLiteral("scores"), top);
    for (int i = 0; i < scores.size(); ++i) {
        QString where = QStringLiteral("score %1").arg(i + 1);
        if (!scores[i].isObject())
            reader.fail(where + QStringLiteral(" must be an object"));
        const QJsonObject object = scores[i].toObject();
        ReviewScore score;
        score.id = reader.requiredString(object, QStringLiteral("id"), where);
        where = QStringLiteral("score \"%1\"").arg(score.id);
        score.title = reader.requiredString(object, QStringLiteral("title"), where);
        score.instruction = reader.requiredString(object, QStringLiteral("instruction"), where);
        score.scale = reader.scale(object, where);
        claim(score.id, score.title, where);
        form.scores.append(score);
    }
    if (titles.contains(titleKey(QStringLiteral("Scores"))))
        reader.fail(QStringLiteral("\"Scores\" is reserved for the heading of the scores block"));
    return form;
}

VenueForm VenueForm::load(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw VenueFormError(QStringLiteral("%1: cannot read it: %2").arg(path, file.errorString()));
    return fromJson(file.readAll(), path);
}

VenueCatalog VenueCatalog::fromDirectory(const QString& dir)
{
    VenueCatalog catalog;
    const QDir directory(dir);
    const QStringList names = directory.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
    for (const QString& name : names) {
        VenueForm form = VenueForm::load(directory.filePath(name));
        if (form.id != QFileInfo(name).completeBaseName())
            throw VenueFormError(QStringLiteral("%1: id \"%2\" does not match the file name")
                                     .arg(directory.filePath(name), form.id));
        catalog.m_forms.append(std::move(form));
    }
    std::sort(catalog.m_forms.begin(), catalog.m_forms.end(),
              [](const VenueForm& a, const VenueForm& b) { return a.id < b.id; });
    return catalog;
}

VenueCatalog VenueCatalog::builtIn()
{
    return fromDirectory(QStringLiteral(":/venues"));
}

QStringList VenueCatalog::ids() const
{
    QStringList result;
    for (const VenueForm& form : m_forms)
        result << form.id;
    return result;
}

std::optional<VenueForm> VenueCatalog::find(const QString& id) const
{
    for (const VenueForm& form : m_forms)
        if (form.id.compare(id.trimmed(), Qt::CaseInsensitive) == 0)
            return form;
    return std::nullopt;
}

} // namespace folio
