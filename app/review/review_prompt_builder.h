// Turns a venue's form into the instruction the model gets after the paper: a review
// along that form, written for the authors as a check before they submit, in a layout
// (one "## Title" heading per section, then "Title: value" score lines) that
// ReviewParser reads back.
#pragma once

#include "app/review/venue_form.h"

#include <QString>

namespace folio {

class ReviewPromptBuilder {
public:
    explicit ReviewPromptBuilder(VenueForm form) : m_form(std::move(form)) {}

    // The whole instruction, to be sent as the user turn after the document block.
    QString instruction() const;

    // One score's line in the instruction, e.g.
    // "- Rating: one of 1, 3, 5, 6, 8 or 10 (1 = strong reject; ...)".
    static QString scoreLine(const ReviewScore& score);

    // The heading the model is asked to put before the score lines.
    static QString scoresHeading() { return QStringLiteral("Scores"); }

private:
    VenueForm m_form;
};

} // namespace folio
