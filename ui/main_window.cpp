#include "ui/main_window.h"

#include "app/documents/document_opener.h"
#include "ui/recent_files.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTextBrowser>
#include <QToolBar>
#include <QVBoxLayout>

// Resources of a static library must be registered by hand (outside any namespace).
static void initUiResources() { Q_INIT_RESOURCE(ui); }

namespace folio {

namespace {

QString pageCountText(const Document& doc)
{
    const int n = doc.pageCount();
    if (doc.kind == DocumentKind::Pdf)
        return n == 1 ? MainWindow::tr("1 page") : MainWindow::tr("%1 pages").arg(n);
    return n == 1 ? MainWindow::tr("1 section") : MainWindow::tr("%1 sections").arg(n);
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), m_opener(new DocumentOpener(this))
{
    initUiResources();
    setWindowTitle(tr("Folio"));
    setWindowIcon(QIcon(QStringLiteral(":/folio/folio.svg")));
    setAcceptDrops(true);
    resize(1100, 760);

    m_pageList = new QListWidget;
    m_pageList->setObjectName(QStringLiteral("pageList"));
    m_pageList->setMinimumWidth(120);

    m_pageHeading = new QLabel;
    m_pageHeading->setObjectName(QStringLiteral("pageHeading"));
    QFont headingFont = m_pageHeading->font();
    headingFont.setBold(true);
    m_pageHeading->setFont(headingFont);

    m_reader = new QTextBrowser;
    m_reader->setObjectName(QStringLiteral("reader"));
    m_reader->setOpenExternalLinks(true);
    m_reader->setPlaceholderText(tr("Open a PDF, text or Markdown file (Ctrl+O), or drop one here."));
    QFont readerFont(QStringLiteral("serif"));
    readerFont.setPointSizeF(font().pointSizeF() * 1.15);
    m_reader->setFont(readerFont);

    auto* readerPane = new QWidget;
    auto* readerLayout = new QVBoxLayout(readerPane);
    readerLayout->setContentsMargins(6, 6, 6, 6);
    readerLayout->addWidget(m_pageHeading);
    readerLayout->addWidget(m_reader);

    auto* splitter = new QSplitter;
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    splitter->addWidget(m_pageList);
    splitter->addWidget(readerPane);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({160, 940});
    setCentralWidget(splitter);

    m_titleLabel = new QLabel;
    m_titleLabel->setObjectName(QStringLiteral("titleLabel"));
    m_pagesLabel = new QLabel;
    m_pagesLabel->setObjectName(QStringLiteral("pagesLabel"));
    m_wordsLabel = new QLabel;
    m_wordsLabel->setObjectName(QStringLiteral("wordsLabel"));
    statusBar()->addWidget(m_titleLabel, 1);
    statusBar()->addPermanentWidget(m_pagesLabel);
    statusBar()->addPermanentWidget(m_wordsLabel);

    createActions();
    connect(m_pageList, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row != m_currentPage)
            showPage(row);
    });
    connect(m_opener, &DocumentOpener::started, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    });
    connect(m_opener, &DocumentOpener::opened, this, &MainWindow::onOpened);
    connect(m_opener, &DocumentOpener::failed, this, &MainWindow::onFailed);

    restoreGeometry(QSettings().value(QStringLiteral("mainWindow/geometry")).toByteArray());
    updateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    QAction* openAction = fileMenu->addAction(QIcon::fromTheme(QStringLiteral("document-open")), tr("&Open…"),
                                              this, &MainWindow::chooseFile);
    openAction->setShortcut(QKeySequence::Open);
    m_recentMenu = fileMenu->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    rebuildRecentMenu();
    fileMenu->addSeparator();
    QAction* quitAction = fileMenu->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quitAction->setShortcut(QKeySequence::Quit);

    QMenu* goMenu = menuBar()->addMenu(tr("&Go"));
    m_previousAction = goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-previous")), tr("&Previous Page"),
                                         this, [this] { showPage(m_currentPage - 1); });
    m_previousAction->setShortcuts({QKeySequence(Qt::Key_PageUp), QKeySequence(Qt::ALT | Qt::Key_Left)});
    m_nextAction = goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-next")), tr("&Next Page"),
                                     this, [this] { showPage(m_currentPage + 1); });
    m_nextAction->setShortcuts({QKeySequence(Qt::Key_PageDown), QKeySequence(Qt::ALT | Qt::Key_Right)});

    QMenu* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About Folio"), this, [this] {
        QMessageBox::about(this, tr("About Folio"),
                           tr("<b>Folio</b> %1<br>Read long documents with a local language model.")
                               .arg(QApplication::applicationVersion()));
    });

    QToolBar* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolBar"));
    toolbar->addAction(openAction);
    toolbar->addSeparator();
    toolbar->addAction(m_previousAction);
    m_pageSpin = new QSpinBox;
    m_pageSpin->setObjectName(QStringLiteral("pageSpin"));
    m_pageSpin->setKeyboardTracking(false);
    m_pageSpin->setToolTip(tr("Go to page"));
    connect(m_pageSpin, &QSpinBox::valueChanged, this, [this](int value) {
        if (value - 1 != m_currentPage)
            showPage(value - 1);
    });
    toolbar->addWidget(m_pageSpin);
    toolbar->addAction(m_nextAction);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = RecentFiles::load();
    for (const QString& file : files)
        m_recentMenu->addAction(QFileInfo(file).fileName(), this, [this, file] { openDocument(file); })
            ->setToolTip(file);
    if (!files.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("Clear List"), this, [this] {
            RecentFiles::clear();
            rebuildRecentMenu();
        });
    }
    m_recentMenu->setEnabled(!files.isEmpty());
}

void MainWindow::chooseFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Document"), QString(),
        tr("Documents (*.pdf *.txt *.md *.markdown);;PDF (*.pdf);;Text (*.txt *.md *.markdown);;All files (*)"));
    if (!path.isEmpty())
        openDocument(path);
}

void MainWindow::openDocument(const QString& path) { m_opener->open(path); }

void MainWindow::onOpened(std::shared_ptr<const Document> document)
{
    m_document = std::move(document);
    statusBar()->clearMessage();
    RecentFiles::add(m_document->path);
    rebuildRecentMenu();

    const bool pdf = m_document->kind == DocumentKind::Pdf;
    m_pageList->blockSignals(true);
    m_pageList->clear();
    for (int i = 0; i < m_document->pageCount(); ++i)
        m_pageList->addItem(pdf ? tr("Page %1").arg(m_document->pages.page(i).label) : tr("Section %1").arg(i + 1));
    m_pageList->blockSignals(false);
    m_pageSpin->blockSignals(true);
    m_pageSpin->setRange(1, qMax(1, m_document->pageCount()));
    m_pageSpin->blockSignals(false);

    setWindowTitle(tr("%1 — Folio").arg(m_document->title));
    m_currentPage = -1;
    showPage(0);
    updateStatus();
    if (!m_document->warnings.isEmpty())
        statusBar()->showMessage(m_document->warnings.join(QStringLiteral("; ")), 10000);
    emit documentShown();
}

void MainWindow::onFailed(const QString& path, const QString& message)
{
    statusBar()->clearMessage();
    m_lastError = message;
    if (!QFileInfo::exists(path)) {
        RecentFiles::remove(path);
        rebuildRecentMenu();
    }
    // Not modal-blocking, so the window (and tests) keep running.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Cannot open document"), message, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    emit openFailed(message);
}

void MainWindow::showPage(int index)
{
    if (!m_document || index < 0 || index >= m_document->pageCount())
        return;
    m_currentPage = index;
    const PageRange& page = m_document->pages.page(index);
    const QString unit = m_document->kind == DocumentKind::Pdf ? tr("Page %1").arg(page.label)
                                                               : tr("Section %1").arg(index + 1);
    m_pageHeading->setText(tr("%1 of %2").arg(unit).arg(m_document->pageCount()));
    const QString text = m_document->pageText(index);
    if (m_document->kind == DocumentKind::Markdown)
        m_reader->setMarkdown(text);
    else
        m_reader->setPlainText(text);
    m_pageList->blockSignals(true);
    m_pageList->setCurrentRow(index);
    m_pageList->blockSignals(false);
    m_pageSpin->blockSignals(true);
    m_pageSpin->setValue(index + 1);
    m_pageSpin->blockSignals(false);
    m_previousAction->setEnabled(index > 0);
    m_nextAction->setEnabled(index + 1 < m_document->pageCount());
}

void MainWindow::updateStatus()
{
    const bool open = m_document != nullptr;
    m_previousAction->setEnabled(open && m_currentPage > 0);
    m_nextAction->setEnabled(open && m_currentPage + 1 < m_document->pageCount());
    m_pageSpin->setEnabled(open);
    if (!open) {
        m_titleLabel->setText(tr("No document"));
        m_pagesLabel->clear();
        m_wordsLabel->clear();
        return;
    }
    const QLocale locale;
    QString title = m_document->title;
    if (!m_document->author.isEmpty())
        title = tr("%1 by %2").arg(title, m_document->author);
    m_titleLabel->setText(title);
    m_pagesLabel->setText(pageCountText(*m_document));
    m_wordsLabel->setText(tr("%1 words").arg(locale.toString(qlonglong(m_document->wordCount))));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile())
        return;
    event->acceptProposedAction();
    openDocument(urls.first().toLocalFile());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings().setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    QMainWindow::closeEvent(event);
}

} // namespace folio
