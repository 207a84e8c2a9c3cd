// EPUBs the tests write themselves (libzip, from strings): known chapters, and damaged ones.
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace folio::test {

struct ZipEntry {
    QString name;
    QByteArray data;
};

// Writes the entries in order; "mimetype" is stored uncompressed, as EPUB requires.
void writeZip(const QString& path, const QList<ZipEntry>& entries);

struct EpubChapter {
    QString file;       // relative to the OPF's folder, e.g. "text/ch1.xhtml"
    QString tocTitle;   // entry in the table of contents; empty: none
    QString body;       // XHTML inside <body>
};

enum class EpubToc { Nav, Ncx, None };

struct EpubBook {
    QString title;
    QString author;
    QList<EpubChapter> chapters;   // in spine order (the manifest lists them reversed)
    EpubToc toc = EpubToc::Nav;
};

// The entries of a valid EPUB: mimetype, META-INF/container.xml, OEBPS/content.opf, the
// table of contents, the chapters.
QList<ZipEntry> epubEntries(const EpubBook& book);
QByteArray xhtmlPage(const QString& body);   // a complete XHTML file around `body`

void removeEntry(QList<ZipEntry>& entries, const QString& name);
ZipEntry* findEntry(QList<ZipEntry>& entries, const QString& name);

} // namespace folio::test
