// Reads a model's review back into the venue form's sections and scores. Tolerant by
// design: it runs on a half-streamed answer as well as on a finished one, headings may
// come as "## Weaknesses", "**Weaknesses:**" or "Weaknesses:", sections the model left
// out stay empty, and a score that is missing or off its scale is reported, not dropped.
#pragma once

#include "app/review/venue_form.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace folio {

struct ParsedSection {
    QString id;
    QString title;
    QString text;        // trimmed; empty when the answer has no such section (yet)
    bool found = false;  // its heading was seen
};

struct ParsedScore {
    QString id;
    QString title;
    bool found = false;    // a "Title: number" line was seen
    double value = 0;
    bool onScale = false;  // value is one the scale allows
    QString line;          // the line it came from, as written
};

struct ParsedReview {
    QString venueId;
    QVector<ParsedSection> sections;   // in the form's order
    QVector<ParsedScore> scores;       // in the form's order
    QString preamble;                  // anything before the first recognized heading

    const ParsedSection* section(const QString& id) const;
    const ParsedScore* score(const QString& id) const;
    bool complete() const;             // every section has text, every score is on its scale
    // One plain sentence per missing section, missing score or score off its scale.
    QStringList problems(const VenueForm& form) const;
};

class ReviewParser {
public:
    // Pure: call it again on the longer text as tokens stream in.
    static ParsedReview parse(const VenueForm& form, const QString& answer);
};

// The review as a Markdown document for the authors: the venue and form year, every
// section (empty ones marked), a score table with each value's label, and the problems.
QString reviewToMarkdown(const VenueForm& form, const ParsedReview& review, const QString& paperTitle = {});

} // namespace folio
