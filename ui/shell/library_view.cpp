#include "ui/shell/library_view.h"

#include <QAction>
#include <QDateTime>
#include <QHeaderView>
#include <QLocale>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace folio {

namespace {

enum Column { Title, Kind, Pages, Tokens, Reading, Opened, ColumnCount };
constexpr int IdRole = Qt::UserRole;
constexpr int PathRole = Qt::UserRole + 1;

QString kindName(const QString& key)
{
    if (key == QLatin1String("pdf"))
        return LibraryView::tr("PDF");
    if (key == QLatin1String("epub"))
        return LibraryView::tr("EPUB");
    if (key == QLatin1String("markdown"))
        return LibraryView::tr("Markdown");
    return LibraryView::tr("Text");
}

} // namespace

LibraryView::LibraryView(QWidget* parent) : QWidget(parent)
{
    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("libraryTree"));
    m_tree->setColumnCount(ColumnCount);
    m_tree->setHeaderLabels({tr("Title"), tr("Kind"), tr("Pages"), tr("Tokens"), tr("Saved reading"), tr("Last opened")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(Title, QHeaderView::Stretch);
    for (int c = Kind; c < ColumnCount; ++c)
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_tree->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* remove = new QAction(tr("Remove from Library"), m_tree);
    connect(remove, &QAction::triggered, this, [this] {
        if (QTreeWidgetItem* item = m_tree->currentItem())
            emit removeRequested(item->data(Title, IdRole).toLongLong());
    });
    m_tree->addAction(remove);
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
        emit openRequested(item->data(Title, PathRole).toString(), item->data(Title, IdRole).toLongLong());
    });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree);
}

void LibraryView::setDocuments(const QVector<DocumentRecord>& documents, const QSet<qint64>& withReading)
{
    const QLocale locale;
    m_tree->clear();
    for (const DocumentRecord& doc : documents) {
        auto* item = new QTreeWidgetItem(m_tree);
        item->setText(Title, doc.title.isEmpty() ? doc.path : doc.title);
        item->setToolTip(Title, doc.author.isEmpty() ? doc.path : tr("%1\n%2").arg(doc.author, doc.path));
        item->setData(Title, IdRole, doc.id);
        item->setData(Title, PathRole, doc.path);
        item->setText(Kind, kindName(doc.kind));
        item->setText(Pages, locale.toString(doc.pages));
        item->setText(Tokens, doc.tokens ? locale.toString(*doc.tokens) : tr("—"));
        item->setText(Reading, withReading.contains(doc.id) ? tr("saved") : tr("—"));
        const QDateTime opened = QDateTime::fromMSecsSinceEpoch(doc.openedAtMs);
        item->setText(Opened, locale.toString(opened, QLocale::ShortFormat));
        for (int c = Pages; c <= Tokens; ++c)
            item->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    }
}

void LibraryView::selectDocument(qint64 id)
{
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_tree->topLevelItem(i);
        if (item->data(Title, IdRole).toLongLong() == id) {
            m_tree->setCurrentItem(item);
            return;
        }
    }
}

int LibraryView::count() const { return m_tree->topLevelItemCount(); }

qint64 LibraryView::documentIdAt(int row) const { return m_tree->topLevelItem(row)->data(Title, IdRole).toLongLong(); }

QString LibraryView::pathAt(int row) const { return m_tree->topLevelItem(row)->data(Title, PathRole).toString(); }

} // namespace folio
