// Evidence pages for an answer that came without attention (a server's): the pages the
// answer cites by their markers ("[p. 12]", "[ch. 3]", "[§ 4]", as the prompt asks), and
// the pages where runs of the answer's words stand in the document (text matches: a
// quote, a name with its context). Each page says which of the two it is.
#pragma once

#include <QString>
#include <QVector>

namespace folio {

struct Document;

struct TextEvidence {
    enum class Kind { Citation, TextMatch };
    int page = 0;       // index into the document's page map
    Kind kind = Kind::Citation;
    double weight = 0;  // citations 1; text matches: the share of the answer's matched runs on this page
    bool operator==(const TextEvidence&) const = default;
};

// Citations first (in the order the answer gives them), then text-matched pages not
// cited, most matches first; at most `limit` in all.
QVector<TextEvidence> evidenceFromText(const Document& document, const QString& answer, int limit = 8);

} // namespace folio
