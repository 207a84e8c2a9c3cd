// The model manager's "On this computer" page: the GGUF models other apps (LM Studio,
// GPT4All, Jan, Ollama, the Hugging Face cache, llama.cpp) and the user's folders
// hold, found from their headers off the GUI thread (app/models). Name, app, family,
// parameters, type, size, trained context, and whether Folio runs it or why not;
// sorted by any column and searchable. "Use this model" hands a runnable one to the
// Local model page. The folders the user adds are remembered; other apps' folders
// are only read.
#pragma once

#include "app/models/model_discovery.h"

#include <QFutureWatcher>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace folio {

class LocalModelsPage : public QWidget {
    Q_OBJECT
public:
    explicit LocalModelsPage(QWidget* parent = nullptr);
    ~LocalModelsPage() override;

    // Where to look (default: the apps' places from the environment and the user's
    // remembered folders). Tests point it at a fake home.
    void setPlaces(const QList<ModelPlace>& places);
    QList<ModelPlace> places() const { return m_places; }
    void rescan();
    void searchOnce();   // the first time the page is shown; later only on request
    bool hasSearched() const { return m_searched; }
    void addFolder(const QString& path);   // remembered in the settings
    const QList<LocalModel>& models() const { return m_models; }
    bool isScanning() const { return m_watcher->isRunning(); }
    void setSearch(const QString& text);
    int shownCount() const;

    static QStringList savedFolders();

signals:
    void scanned(int count);
    void chosen(const QString& path);   // a runnable model, for the Local model page

private:
    void onScanned();
    void fill();
    void useSelected();

    QList<ModelPlace> m_places;
    QList<LocalModel> m_models;
    QFutureWatcher<ModelScan>* m_watcher;
    bool m_rescanAgain = false;
    bool m_searched = false;

    QLineEdit* m_search;
    QTreeWidget* m_list;
    QLabel* m_status;
    QPushButton* m_use;
};

} // namespace folio
