#include "ui/models/download_page.h"

#include "app/models/model_download.h"
#include "ui/chat/reading_progress.h"
#include "ui/shell/status_widgets.h"

#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace folio {

namespace {

enum Column { Name, Size, Context, Licence, ForDocument, ColumnCount };

QString methodText(ExtensionMethod method)
{
    return method == ExtensionMethod::None ? QObject::tr("as trained")
                                           : QString::fromLatin1(extensionMethodName(method).data()).toUpper();
}

} // namespace

QString DownloadPage::defaultFolder()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("models"));
}

DownloadPage::DownloadPage(QWidget* parent) : QWidget(parent), m_catalog(loadCatalog())
{
    m_list = new QTreeWidget;
    m_list->setObjectName(QStringLiteral("catalogList"));
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({tr("Model"), tr("Size"), tr("Trained context"), tr("Licence"), tr("For the open document")});
    m_list->setRootIsDecorated(false);
    m_list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(true);

    m_source = new QLineEdit;
    m_source->setObjectName(QStringLiteral("downloadSourceEdit"));
    m_source->setPlaceholderText(tr("https://… or OWNER/REPO:FILE.gguf"));
    m_sha = new QLineEdit;
    m_sha->setObjectName(QStringLiteral("downloadShaEdit"));
    m_sha->setPlaceholderText(tr("optional: 64 hex digits (Hugging Face gives it itself)"));
    m_folder = new QLineEdit(defaultFolder());
    m_folder->setObjectName(QStringLiteral("downloadFolderEdit"));
    auto* browse = new QPushButton(tr("Choose…"));
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    m_start = new QPushButton(tr("Download"));
    m_start->setObjectName(QStringLiteral("downloadButton"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("cancelDownloadButton"));
    m_cancel->setEnabled(false);
    m_bar = new QProgressBar;
    m_bar->setObjectName(QStringLiteral("downloadProgress"));
    m_bar->setVisible(false);
    m_status = new QLabel(m_catalog.error.isEmpty() ? QString() : tr("The catalog could not be read: %1").arg(m_catalog.error));
    m_status->setObjectName(QStringLiteral("downloadStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* form = new QFormLayout;
    form->addRow(tr("File:"), m_source);
    form->addRow(tr("SHA-256:"), m_sha);
    form->addRow(tr("Into:"), folderRow);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_bar, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Models that suit long documents (double-click one to fill in its file):")));
    layout->addWidget(m_list, 1);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_status);

    connect(m_list, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        m_source->setText(item->data(Name, Qt::UserRole).toString());
    });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Download Models Into"), m_folder->text());
        if (!dir.isEmpty())
            m_folder->setText(dir);
    });
    connect(m_start, &QPushButton::clicked, this, [this] { start(m_source->text().trimmed(), m_sha->text().trimmed()); });
    connect(m_cancel, &QPushButton::clicked, this, &DownloadPage::cancel);
    fillCatalog();
}

DownloadPage::~DownloadPage() = default;   // a running download is cancelled with its object; the part stays

void DownloadPage::setDocumentTokens(int tokens)
{
    m_documentTokens = tokens;
    fillCatalog();
}

void DownloadPage::setFolder(const QString& folder) { m_folder->setText(folder); }

QString DownloadPage::folder() const { return m_folder->text(); }

bool DownloadPage::isRunning() const { return m_download && m_download->isRunning(); }

void DownloadPage::fillCatalog()
{
    const QLocale locale;
    m_list->clear();
    for (const CatalogEntry& e : m_catalog.models) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(Name, e.name + (e.runs ? QString() : tr(" (not run by Folio yet)")));
        item->setData(Name, Qt::UserRole, e.huggingFace);
        item->setToolTip(Name, e.huggingFace + (e.note.isEmpty() ? QString() : QStringLiteral("\n") + e.note));
        item->setText(Size, (e.sizeApproximate ? QStringLiteral("≈ ") : QString()) + StatusWidgets::bytesText(e.sizeBytes));
        item->setText(Context, locale.toString(e.trainedContext));
        item->setText(Licence, e.licence);
        if (m_documentTokens > 0) {
            const CatalogPlan plan = planForCatalogEntry(e, m_documentTokens);
            item->setText(ForDocument, tr("%1, %2").arg(StatusWidgets::bytesText(qint64(plan.total())), methodText(plan.method)));
        } else {
            item->setText(ForDocument, tr("no document open"));
        }
    }
}

void DownloadPage::setRunning(bool running)
{
    m_start->setEnabled(!running);
    m_cancel->setEnabled(running);
    m_source->setEnabled(!running);
    m_sha->setEnabled(!running);
    m_bar->setVisible(running);
}

void DownloadPage::start(const QString& source, const QString& sha256)
{
    if (isRunning() || source.isEmpty())
        return;
    m_source->setText(source);
    m_sha->setText(sha256);
    delete m_download;
    m_download = new ModelDownload({}, this);
    connect(m_download, &ModelDownload::progress, this,
            [this](qint64 done, qint64 total, double rate, double left) {
                m_bar->setRange(0, total > 0 ? 1000 : 0);
                if (total > 0)
                    m_bar->setValue(int(1000 * done / total));
                QString text = total > 0 ? tr("%1 of %2").arg(StatusWidgets::bytesText(done), StatusWidgets::bytesText(total))
                                         : StatusWidgets::bytesText(done);
                if (rate > 0)
                    text += tr(" · %1/s").arg(StatusWidgets::bytesText(qint64(rate)));
                if (left >= 0)
                    text += tr(" · %1 left").arg(ReadingProgress::durationText(left));
                m_status->setText(text);
            });
    connect(m_download, &ModelDownload::notice, this, [this](const QString& message) { m_status->setText(message); });
    connect(m_download, &ModelDownload::finished, this, [this](const QString& path) {
        setRunning(false);
        m_status->setText(tr("Downloaded and checked: %1").arg(path));
        emit downloaded(path);
    });
    connect(m_download, &ModelDownload::failed, this, [this](ModelDownload::Failure, const QString& message) {
        setRunning(false);
        m_status->setText(tr("The download did not finish: %1").arg(message));
        emit failed(message);
    });
    QDir().mkpath(m_folder->text());
    setRunning(true);
    m_status->setText(tr("Starting…"));
    m_download->start(source, m_folder->text(), sha256);
}

void DownloadPage::cancel()
{
    if (m_download)
        m_download->cancel();
}

} // namespace folio
