// The main window: the library of opened documents, the reader with its page strip, and
// (right) the chat pane, in splitters whose sizes are remembered. Opens documents from
// the menu, drag and drop, recent files or the command line; every failure reported by
// app/ is shown in the window and appended to the error log.
#pragma once

#include "app/documents/document.h"

#include <QMainWindow>
#include <QPointer>

#include <memory>

class QAction;
class QActionGroup;
class QLabel;
class QToolBar;
class QListWidget;
class QMenu;
class QSpinBox;
class QSplitter;

namespace folio {

class StoreWriter;

class Database;
class DocumentOpener;
class AnswerSource;
class ChatView;
class LibraryStore;
class LibraryView;
class ApiKeyStore;
class ModelManagerDialog;
class ReviewDialog;
class ReaderView;
class StatusWidgets;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openDocument(const QString& path);   // asynchronous: see documentShown / openFailed
    const Document* document() const { return m_document.get(); }
    qint64 documentId() const { return m_documentId; }   // in the store; 0 when not stored
    int currentPage() const;
    void showPage(int index);
    QString lastError() const { return m_lastError; }
    // Shows a failure in the window (non-modal) and appends it to the error log.
    void showError(const QString& title, const QString& message);

    ReaderView* reader() const { return m_reader; }
    LibraryView* library() const { return m_library; }
    ChatView* chat() const { return m_chat; }
    // The chat pane's source of answers (not owned); null: asking says no model is loaded.
    void setChatBackend(AnswerSource* backend);
    StatusWidgets* statusWidgets() const { return m_status; }
    // The keyring for servers' API keys (the model manager writes, the answer source reads).
    ApiKeyStore* keys() const { return m_keys; }
    // Shows what the app wants the user to know, without a dialog (the status bar).
    void showNotice(const QString& message);
    LibraryStore* store() const { return m_store.get(); }   // null when the database cannot be opened
    StoreWriter* storeWriter() const { return m_writer.get(); }
    void refreshLibrary();
    // Tools → Model Manager: opened non-modal; applying it updates the status bar and
    // emits modelSettingsChanged. Returns the dialog (tests and screenshots drive it).
    ModelManagerDialog* openModelManager();
    // Tools → Review for Venue: the open document reviewed along a venue's form.
    ReviewDialog* openReview();

signals:
    void documentShown();
    void openFailed(const QString& message);
    void modelSettingsChanged();   // saved: ModelSettings::load() has the new choice

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void openStore();
    void createActions();
    void createViewMenu(QMenu* menu);
    void rebuildRecentMenu();
    void chooseFile();
    void onOpened(std::shared_ptr<const Document> document);
    void onFailed(const QString& path, const QString& message);
    void onPageChanged(int page);
    void updateStatus();
    void saveLayout();
    void applyModelChoice(ModelManagerDialog* dialog);
    void showModelFromSettings();

    DocumentOpener* m_opener = nullptr;
    std::shared_ptr<const Document> m_document;
    qint64 m_documentId = 0;
    QString m_lastError;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<LibraryStore> m_store;
    std::unique_ptr<StoreWriter> m_writer;   // the window's writes, off the GUI thread
    ApiKeyStore* m_keys = nullptr;
    QList<QPointer<AnswerSource>> m_watchedSources;   // whose session signals the status bar follows

    QSplitter* m_mainSplitter = nullptr;
    QSplitter* m_leftSplitter = nullptr;
    LibraryView* m_library = nullptr;
    QListWidget* m_pageList = nullptr;
    ReaderView* m_reader = nullptr;
    ChatView* m_chat = nullptr;
    StatusWidgets* m_status = nullptr;
    QLabel* m_titleLabel = nullptr;
    QLabel* m_pagesLabel = nullptr;
    QLabel* m_wordsLabel = nullptr;
    QSpinBox* m_pageSpin = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_previousAction = nullptr;
    QAction* m_nextAction = nullptr;
    QAction* m_findAction = nullptr;
    QActionGroup* m_themeGroup = nullptr;
    QAction* m_zoomInAction = nullptr;
    QAction* m_zoomOutAction = nullptr;
    QAction* m_fitWidthAction = nullptr;
    QMenu* m_toolsMenu = nullptr;
    QToolBar* m_toolBar = nullptr;
};

} // namespace folio
