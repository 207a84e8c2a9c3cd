#include "ui/models/local_models_page.h"

#include "app/models/model_list.h"
#include "ui/models/download_page.h"
#include "ui/models/model_summary.h"
#include "ui/shell/status_widgets.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSettings>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace folio {

namespace {

const QString kFoldersKey = QStringLiteral("models/folders");

enum Column { Name, App, Family, Parameters, Type, Size, Context, Runs, ColumnCount };

// Sorts numbers as numbers: each cell keeps its value under Qt::UserRole.
class ModelItem : public QTreeWidgetItem {
public:
    using QTreeWidgetItem::QTreeWidgetItem;
    bool operator<(const QTreeWidgetItem& other) const override
    {
        const int column = treeWidget() ? treeWidget()->sortColumn() : 0;
        const QVariant a = data(column, Qt::UserRole), b = other.data(column, Qt::UserRole);
        if (a.isValid() && b.isValid())
            return a.toLongLong() < b.toLongLong();
        return text(column).compare(other.text(column), Qt::CaseInsensitive) < 0;
    }
};

QList<ModelPlace> defaultPlaces()
{
    QList<ModelPlace> places = defaultModelPlaces();
    // Folio's own folder, where the Download page puts what it fetches.
    ModelPlace own = userModelFolder(DownloadPage::defaultFolder());
    own.source = QStringLiteral("Folio");
    places.prepend(own);
    for (const QString& folder : LocalModelsPage::savedFolders())
        places.append(userModelFolder(folder));
    return places;
}

} // namespace

QStringList LocalModelsPage::savedFolders() { return QSettings().value(kFoldersKey).toStringList(); }

LocalModelsPage::LocalModelsPage(QWidget* parent) : QWidget(parent), m_places(defaultPlaces())
{
    m_watcher = new QFutureWatcher<ModelScan>(this);
    connect(m_watcher, &QFutureWatcher<ModelScan>::finished, this, &LocalModelsPage::onScanned);

    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("localModelsSearch"));
    m_search->setPlaceholderText(tr("Search by name, family or app"));
    m_search->setClearButtonEnabled(true);
    auto* add = new QPushButton(tr("Add Folder…"));
    add->setObjectName(QStringLiteral("addModelFolderButton"));
    auto* rescanButton = new QPushButton(tr("Search Again"));
    rescanButton->setObjectName(QStringLiteral("rescanModelsButton"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_search, 1);
    top->addWidget(add);
    top->addWidget(rescanButton);

    m_list = new QTreeWidget;
    m_list->setObjectName(QStringLiteral("localModelsList"));
    m_list->setColumnCount(ColumnCount);
    m_list->setHeaderLabels({tr("Name"), tr("App"), tr("Family"), tr("Parameters"), tr("Type"), tr("Size"),
                             tr("Context"), tr("Folio runs it")});
    m_list->setRootIsDecorated(false);
    m_list->setSortingEnabled(true);
    m_list->sortByColumn(Name, Qt::AscendingOrder);
    m_list->setAlternatingRowColors(true);
    m_list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->header()->setStretchLastSection(true);
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("localModelsStatus"));
    m_status->setWordWrap(true);
    m_use = new QPushButton(tr("Use This Model"));
    m_use->setObjectName(QStringLiteral("useLocalModelButton"));
    m_use->setEnabled(false);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(m_use);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_list, 1);
    layout->addLayout(bottom);

    connect(m_search, &QLineEdit::textChanged, this, &LocalModelsPage::fill);
    connect(rescanButton, &QPushButton::clicked, this, &LocalModelsPage::rescan);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a Folder of Models"));
        if (!dir.isEmpty())
            addFolder(dir);
    });
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, [this] {
        const QTreeWidgetItem* item = m_list->currentItem();
        m_use->setEnabled(item && item->data(Name, Qt::UserRole + 1).toBool());
    });
    connect(m_list, &QTreeWidget::itemDoubleClicked, this, &LocalModelsPage::useSelected);
    connect(m_use, &QPushButton::clicked, this, &LocalModelsPage::useSelected);
}

// A scan still running keeps its own copy of the places; its result goes with the watcher.
LocalModelsPage::~LocalModelsPage() = default;

void LocalModelsPage::setPlaces(const QList<ModelPlace>& places)
{
    m_places = places;
    rescan();
}

void LocalModelsPage::addFolder(const QString& path)
{
    QStringList folders = savedFolders();
    if (!folders.contains(path)) {
        folders.append(path);
        QSettings().setValue(kFoldersKey, folders);
    }
    const ModelPlace place = userModelFolder(path);
    if (!m_places.contains(place))
        m_places.append(place);
    rescan();
}

void LocalModelsPage::searchOnce()
{
    if (!m_searched)
        rescan();
}

void LocalModelsPage::rescan()
{
    m_searched = true;
    if (m_watcher->isRunning()) {
        m_rescanAgain = true;   // with the places as they are when this one ends
        return;
    }
    m_status->setText((m_places.size() == 1 ? tr("Searching 1 place…") : tr("Searching %1 places…").arg(m_places.size())));
    const QList<ModelPlace> places = m_places;
    m_watcher->setFuture(QtConcurrent::run([places] { return scanModels(places); }));
}

void LocalModelsPage::onScanned()
{
    if (std::exchange(m_rescanAgain, false)) {
        rescan();
        return;
    }
    const ModelScan scan = m_watcher->result();
    m_models = scan.models;
    fill();
    QStringList searched;
    for (const ModelPlace& place : scan.searched)
        searched << place.source;
    searched.removeDuplicates();
    m_status->setText(scan.searched.isEmpty()
                          ? tr("No models found: none of the usual places exists here. Add a folder that holds GGUF files.")
                          : (m_models.size() == 1 ? tr("1 model in %1.") : tr("%1 models in %2.").arg(m_models.size()))
                                .arg(searched.join(QStringLiteral(", "))));
    emit scanned(int(m_models.size()));
}

void LocalModelsPage::setSearch(const QString& text) { m_search->setText(text); }

int LocalModelsPage::shownCount() const { return m_list->topLevelItemCount(); }

void LocalModelsPage::fill()
{
    const QLocale locale;
    m_list->setSortingEnabled(false);
    m_list->clear();
    for (const LocalModel& m : filterModels(m_models, m_search->text())) {
        auto* item = new ModelItem(m_list);
        item->setText(Name, m.name);
        item->setToolTip(Name, m.path);
        item->setData(Name, Qt::UserRole + 1, m.supported);
        item->setData(Name, Qt::UserRole + 2, m.path);
        item->setText(App, m.source);
        item->setText(Family, m.family);
        item->setText(Parameters, m.parameters > 0 ? ModelSummary::parameterText(m.parameters) : QString());
        item->setData(Parameters, Qt::UserRole, m.parameters);
        item->setText(Type, m.type);
        item->setText(Size, StatusWidgets::bytesText(m.sizeBytes));
        item->setData(Size, Qt::UserRole, m.sizeBytes);
        item->setText(Context, m.contextLength > 0 ? locale.toString(m.contextLength) : QString());
        item->setData(Context, Qt::UserRole, m.contextLength);
        const QString why = !m.incomplete.isEmpty() ? m.incomplete : m.reason;
        item->setText(Runs, m.supported ? tr("yes") : tr("no: %1").arg(why));
        item->setToolTip(Runs, why);
        if (!m.supported)
            for (int c = 0; c < ColumnCount; ++c)
                item->setForeground(c, palette().brush(QPalette::Disabled, QPalette::Text));
    }
    m_list->setSortingEnabled(true);
    m_use->setEnabled(false);
}

void LocalModelsPage::useSelected()
{
    const QTreeWidgetItem* item = m_list->currentItem();
    if (!item || !item->data(Name, Qt::UserRole + 1).toBool())
        return;
    emit chosen(item->data(Name, Qt::UserRole + 2).toString());
}

} // namespace folio
