// The model manager's "Download" page: models that suit long-document reading (the
// bundled catalog, with what reading the open document would take with each), or any
// URL or Hugging Face file (OWNER/REPO:FILE), downloaded into Folio's models folder by
// ModelDownload: resumed after an interruption, checked against its SHA-256 before
// it is put in place, with speed, time left and Cancel. A finished download goes to
// the Local model page.
#pragma once

#include "app/models/model_catalog.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;

namespace folio {

class ModelDownload;

class DownloadPage : public QWidget {
    Q_OBJECT
public:
    explicit DownloadPage(QWidget* parent = nullptr);
    ~DownloadPage() override;

    // The open document's length in tokens (an estimate before a model counts it),
    // for the catalog's memory column; 0: none open.
    void setDocumentTokens(int tokens);
    void setFolder(const QString& folder);
    QString folder() const;
    static QString defaultFolder();   // <data>/models: Folio's own, searched on "On this computer"

    void start(const QString& source, const QString& sha256 = {});
    void cancel();
    bool isRunning() const;

signals:
    void downloaded(const QString& path);
    void failed(const QString& message);

private:
    void fillCatalog();
    void setRunning(bool running);

    Catalog m_catalog;
    int m_documentTokens = 0;
    ModelDownload* m_download = nullptr;

    QTreeWidget* m_list;
    QLineEdit* m_source;
    QLineEdit* m_sha;
    QLineEdit* m_folder;
    QPushButton* m_start;
    QPushButton* m_cancel;
    QProgressBar* m_bar;
    QLabel* m_status;
};

} // namespace folio
