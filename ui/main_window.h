// The main window: opens a document (menu, drag and drop, command line) and shows
// its text page by page.
#pragma once

#include "app/documents/document.h"

#include <QMainWindow>

#include <memory>

class QAction;
class QLabel;
class QListWidget;
class QMenu;
class QSpinBox;
class QTextBrowser;

namespace folio {

class DocumentOpener;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void openDocument(const QString& path);   // asynchronous: see documentShown / openFailed
    const Document* document() const { return m_document.get(); }
    int currentPage() const { return m_currentPage; }
    void showPage(int index);
    QString lastError() const { return m_lastError; }

signals:
    void documentShown();
    void openFailed(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void rebuildRecentMenu();
    void chooseFile();
    void onOpened(std::shared_ptr<const Document> document);
    void onFailed(const QString& path, const QString& message);
    void updateStatus();

    DocumentOpener* m_opener = nullptr;
    std::shared_ptr<const Document> m_document;
    int m_currentPage = -1;
    QString m_lastError;

    QListWidget* m_pageList = nullptr;
    QLabel* m_pageHeading = nullptr;
    QTextBrowser* m_reader = nullptr;
    QLabel* m_titleLabel = nullptr;
    QLabel* m_pagesLabel = nullptr;
    QLabel* m_wordsLabel = nullptr;
    QSpinBox* m_pageSpin = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_previousAction = nullptr;
    QAction* m_nextAction = nullptr;
};

} // namespace folio
