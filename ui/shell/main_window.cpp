#include "ui/shell/main_window.h"

#include "app/store/store_writer.h"

#include "app/documents/document_opener.h"
#include "app/remote/api_key_store.h"
#include "app/store/database.h"
#include "app/store/kv_snapshot_store.h"
#include "app/store/library_store.h"
#include "app/store/store_writer.h"
#include "ui/chat/chat_view.h"
#include "ui/shell/error_log.h"
#include "ui/shell/library_view.h"
#include "ui/reader/reader_view.h"
#include "ui/shell/recent_files.h"
#include "ui/shell/status_widgets.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>

// Resources of a static library must be registered by hand (outside any namespace).
static void initUiResources() { Q_INIT_RESOURCE(ui); }

namespace folio {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_opener(new DocumentOpener(this)), m_keys(new ApiKeyStore(this))
{
    initUiResources();
    setWindowTitle(tr("Folio"));
    setWindowIcon(QIcon(QStringLiteral(":/folio/folio.svg")));
    setAcceptDrops(true);
    resize(1280, 800);

    m_library = new LibraryView;
    m_library->setObjectName(QStringLiteral("library"));
    m_pageList = new QListWidget;
    m_pageList->setObjectName(QStringLiteral("pageList"));
    m_pageList->setMinimumWidth(120);
    m_leftSplitter = new QSplitter(Qt::Vertical);
    m_leftSplitter->setObjectName(QStringLiteral("leftSplitter"));
    m_leftSplitter->addWidget(m_library);
    m_leftSplitter->addWidget(m_pageList);
    m_leftSplitter->setSizes({300, 400});

    m_reader = new ReaderView;
    m_reader->setObjectName(QStringLiteral("readerView"));

    m_mainSplitter = new QSplitter;
    m_mainSplitter->setObjectName(QStringLiteral("mainSplitter"));
    m_mainSplitter->addWidget(m_leftSplitter);
    m_mainSplitter->addWidget(m_reader);
    m_chat = new ChatView;
    m_mainSplitter->addWidget(m_chat);
    m_mainSplitter->setStretchFactor(1, 1);
    m_mainSplitter->setSizes({250, 650, 380});
    setCentralWidget(m_mainSplitter);

    m_titleLabel = new QLabel;
    m_titleLabel->setObjectName(QStringLiteral("titleLabel"));
    m_pagesLabel = new QLabel;
    m_pagesLabel->setObjectName(QStringLiteral("pagesLabel"));
    m_wordsLabel = new QLabel;
    m_wordsLabel->setObjectName(QStringLiteral("wordsLabel"));
    statusBar()->addWidget(m_titleLabel, 1);
    statusBar()->addPermanentWidget(m_pagesLabel);
    statusBar()->addPermanentWidget(m_wordsLabel);
    m_status = new StatusWidgets(statusBar());

    createActions();
    connect(m_pageList, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0 && row != currentPage())
            showPage(row);
    });
    connect(m_reader, &ReaderView::pageChanged, this, &MainWindow::onPageChanged);
    connect(m_reader, &ReaderView::failed, this, [this](const QString& message) { showError(tr("Reader"), message); });
    connect(m_chat, &ChatView::failed, this, [this](const QString& message) { showError(tr("Chat"), message); });
    connect(m_chat, &ChatView::evidenceSelected, m_reader, &ReaderView::setEvidence);
    // A first answer leaves a saved reading (and a token count) behind: show it.
    connect(m_chat, &ChatView::answerFinished, this, &MainWindow::refreshLibrary);
    connect(m_chat, &ChatView::pageLinkActivated, this, [this](const QString& label) {
        const int page = m_reader->pageForLabel(label);
        if (page >= 0)
            showPage(page);
        else
            statusBar()->showMessage(tr("The document has no page %1").arg(label), 5000);
    });
    connect(m_library, &LibraryView::openRequested, this, [this](const QString& path) { openDocument(path); });
    connect(m_library, &LibraryView::removeRequested, this, [this](qint64 id) {
        if (!m_writer)
            return;
        m_writer->post(this, [id](LibraryStore& store) { store.removeDocument(id); }, [this] { refreshLibrary(); },
                       [this](const StoreError& e) {
                           showError(tr("Library"), e.message());
                           refreshLibrary();
                       });
    });
    connect(m_opener, &DocumentOpener::started, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Opening %1…").arg(QFileInfo(path).fileName()));
    });
    connect(m_opener, &DocumentOpener::opened, this, &MainWindow::onOpened);
    connect(m_opener, &DocumentOpener::failed, this, &MainWindow::onFailed);

    const QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    m_mainSplitter->restoreState(settings.value(QStringLiteral("mainWindow/mainSplitter")).toByteArray());
    m_leftSplitter->restoreState(settings.value(QStringLiteral("mainWindow/leftSplitter")).toByteArray());
    openStore();
    updateStatus();
    showModelFromSettings();
}

MainWindow::~MainWindow() = default;

void MainWindow::openStore()
{
    try {
        m_db = std::make_unique<Database>(Database::defaultPath());
        m_store = std::make_unique<LibraryStore>(*m_db);
        m_writer = std::make_unique<StoreWriter>(m_db->path());
        m_chat->setStore(m_store.get(), m_writer.get());
    } catch (const StoreError& e) {
        m_chat->setStore(nullptr, nullptr);
        m_writer.reset();
        m_store.reset();
        m_db.reset();
        showError(tr("Library unavailable"), e.message());
    }
    refreshLibrary();
}

void MainWindow::refreshLibrary()
{
    if (!m_store)
        return;
    try {
        QSet<qint64> withReading;
        for (const KvSnapshotInfo& snapshot : KvSnapshotStore(*m_db).snapshots())
            if (snapshot.kind == KvSnapshotKind::Document)
                withReading.insert(snapshot.documentId);
        m_library->setDocuments(m_store->documents(), withReading);
        if (m_documentId)
            m_library->selectDocument(m_documentId);
    } catch (const StoreError& e) {
        showError(tr("Library"), e.message());
    }
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
        tr("Documents (*.pdf *.epub *.txt *.md *.markdown);;PDF (*.pdf);;EPUB (*.epub);;Text (*.txt *.md *.markdown);;"
           "All files (*)"));
    if (!path.isEmpty())
        openDocument(path);
}

void MainWindow::openDocument(const QString& path) { m_opener->open(path); }

void MainWindow::setChatBackend(AnswerSource* backend)
{
    m_chat->setBackend(backend);
    if (!backend)
        return;
    // Once per source: the app switches between the engine and a server.
    for (const QPointer<AnswerSource>& watched : std::as_const(m_watchedSources))
        if (watched == backend)
            return;
    m_watchedSources.append(backend);
    connect(backend, &AnswerSource::contextUsed, m_status, &StatusWidgets::setContext);
    connect(backend, &AnswerSource::sessionDescribed, this,
            [this](const QString& extension, const QString& kvType, qint64 contextTokens) {
                m_status->setExtension(extension);
                m_status->setKvType(kvType);
                m_status->setContext(0, contextTokens);
            });
}

void MainWindow::showNotice(const QString& message) { statusBar()->showMessage(message, 15000); }

int MainWindow::currentPage() const { return m_reader->currentPage(); }

void MainWindow::showPage(int index) { m_reader->showPage(index); }

void MainWindow::onOpened(std::shared_ptr<const Document> document)
{
    m_document = std::move(document);
    statusBar()->clearMessage();
    RecentFiles::add(m_document->path);
    rebuildRecentMenu();
    m_documentId = 0;

    m_pageList->blockSignals(true);
    m_pageList->clear();
    for (int i = 0; i < m_document->pageCount(); ++i)
        m_pageList->addItem(m_document->pageName(i));
    m_pageList->blockSignals(false);
    m_pageSpin->blockSignals(true);
    m_pageSpin->setRange(1, qMax(1, m_document->pageCount()));
    m_pageSpin->blockSignals(false);

    setWindowTitle(tr("%1 — Folio").arg(m_document->title));
    m_reader->setDocument(m_document);
    onPageChanged(m_reader->currentPage());
    m_chat->setDocument(m_document, 0);
    updateStatus();
    if (!m_document->warnings.isEmpty())
        statusBar()->showMessage(m_document->warnings.join(QStringLiteral("; ")), 10000);
    // The library learns of it off this thread; the chat follows once it has an id.
    if (!m_writer) {
        emit documentShown();
        return;
    }
    std::shared_ptr<const Document> shown = m_document;
    m_writer->post(this, [shown](LibraryStore& store) { return store.rememberDocument(*shown); },
                   [this, shown](qint64 id) {
                       if (shown != m_document)
                           return;   // another document was opened meanwhile
                       m_documentId = id;
                       m_chat->setDocument(m_document, id);
                       refreshLibrary();
                       updateStatus();
                       emit documentShown();
                   },
                   [this, shown](const StoreError& e) {
                       if (shown != m_document)
                           return;
                       showError(tr("Library"), e.message());
                       emit documentShown();
                   });
}

void MainWindow::onFailed(const QString& path, const QString& message)
{
    statusBar()->clearMessage();
    if (!QFileInfo::exists(path)) {
        RecentFiles::remove(path);
        rebuildRecentMenu();
    }
    showError(tr("Cannot open document"), message);
    emit openFailed(message);
}

void MainWindow::showError(const QString& title, const QString& message)
{
    m_lastError = message;
    ErrorLog::append(title, message);
    // Not modal-blocking, so the window (and tests) keep running.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::onPageChanged(int page)
{
    m_pageList->blockSignals(true);
    m_pageList->setCurrentRow(page);
    m_pageList->blockSignals(false);
    m_pageSpin->blockSignals(true);
    m_pageSpin->setValue(page + 1);
    m_pageSpin->blockSignals(false);
    const int pages = m_document ? m_document->pageCount() : 0;
    m_previousAction->setEnabled(page > 0);
    m_nextAction->setEnabled(page + 1 < pages);
}

void MainWindow::updateStatus()
{
    const bool open = m_document != nullptr;
    m_pageSpin->setEnabled(open);
    m_findAction->setEnabled(open);
    if (!open) {
        m_previousAction->setEnabled(false);
        m_nextAction->setEnabled(false);
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
    m_pagesLabel->setText(pageUnitName(m_document->unit, m_document->pageCount()));
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

void MainWindow::saveLayout()
{
    QSettings settings;
    settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("mainWindow/mainSplitter"), m_mainSplitter->saveState());
    settings.setValue(QStringLiteral("mainWindow/leftSplitter"), m_leftSplitter->saveState());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    saveLayout();
    QMainWindow::closeEvent(event);
}

} // namespace folio
