// A venue's reviewing form (ICLR, NeurIPS, ...) as data: the sections of a review in
// order and the scores with their scales. The forms live as JSON in resources/venues/,
// compiled into folio_app as Qt resources (":/venues/*.json") so that an installed
// binary finds them without a data directory.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QVector>

#include <exception>
#include <optional>
#include <utility>

namespace folio {

// A form file that cannot be used; the message names the file and what is wrong in it.
class VenueFormError : public std::exception {
public:
    explicit VenueFormError(const QString& message);
    const QString& message() const { return m_message; }
    const char* what() const noexcept override { return m_utf8.constData(); }

private:
    QString m_message;
    QByteArray m_utf8;
};

struct ReviewSection {
    QString id;           // "weaknesses"
    QString title;        // "Weaknesses", the heading the model writes
    QString instruction;  // one line: what goes there
};

// The values a score may take: an explicit list ({1,3,5,6,8,10}) or min..max by step
// (ARR's 1-5 in half points), with labels for some or all of them.
struct ScoreScale {
    QVector<double> values;   // increasing
    bool listed = false;      // given as an explicit list: describe it value by value
    struct Label {
        double value;
        QString text;
    };
    QVector<Label> labels;    // in the order the file lists them

    bool contains(double value) const;
    QString labelFor(double value) const;   // empty when the value has none
    double min() const { return values.isEmpty() ? 0 : values.front(); }
    double max() const { return values.isEmpty() ? 0 : values.back(); }
    bool isRange() const;                   // every step between min and max is allowed
    // "1, 3, 5, 6, 8 or 10" or "1 to 5 in steps of 0.5".
    QString describe() const;
};

struct ReviewScore {
    QString id;
    QString title;
    QString instruction;
    ScoreScale scale;
};

struct VenueForm {
    QString id;            // "iclr": the CLI's --venue value and the file's base name
    QString name;          // "ICLR"
    QString fullName;
    int formYear = 0;      // the year of the form this file describes
    QString formDate;
    QString source;        // which public guidelines it was written from
    QString sourceUrl;
    QStringList unconfirmed;   // facts that could not be checked
    QString notes;
    QVector<ReviewSection> sections;
    QVector<ReviewScore> scores;

    const ReviewSection* section(const QString& sectionId) const;
    const ReviewScore* score(const QString& scoreId) const;

    // Parses and validates; `origin` (a file name) starts every error message.
    static VenueForm fromJson(const QByteArray& json, const QString& origin);
    static VenueForm load(const QString& path);
};

// The forms Folio ships with, and any in a directory of the user's.
class VenueCatalog {
public:
    // The forms compiled into the app, sorted by id. Throws VenueFormError if one is bad
    // (a build mistake the tests catch).
    static VenueCatalog builtIn();
    // Every *.json in `dir`, sorted by id; throws VenueFormError naming a bad file.
    static VenueCatalog fromDirectory(const QString& dir);

    // By value on a temporary, so that `for (auto& f : VenueCatalog::builtIn().forms())`
    // does not loop over a destroyed catalog.
    const QVector<VenueForm>& forms() const& { return m_forms; }
    QVector<VenueForm> forms() && { return std::move(m_forms); }
    QStringList ids() const;
    std::optional<VenueForm> find(const QString& id) const;   // case-insensitive

private:
    QVector<VenueForm> m_forms;
};

} // namespace folio
