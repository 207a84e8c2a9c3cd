// The main window's menus and toolbar (kept apart from its layout and document handling).
#include "ui/shell/main_window.h"

#include "ui/reader/reader_view.h"
#include "ui/shell/theme.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QSpinBox>
#include <QToolBar>

namespace folio {

void MainWindow::createActions()
{
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    QAction* openAction = fileMenu->addAction(QIcon::fromTheme(QStringLiteral("document-open")), tr("&Open…"),
                                              this, &MainWindow::chooseFile);
    openAction->setObjectName(QStringLiteral("openAction"));
    openAction->setShortcut(QKeySequence::Open);
    m_recentMenu = fileMenu->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    rebuildRecentMenu();
    fileMenu->addSeparator();
    QAction* quitAction = fileMenu->addAction(QIcon::fromTheme(QStringLiteral("application-exit")), tr("&Quit"),
                                              qApp, &QApplication::closeAllWindows);
    quitAction->setShortcut(QKeySequence::Quit);

    QMenu* editMenu = menuBar()->addMenu(tr("&Edit"));
    m_findAction = editMenu->addAction(QIcon::fromTheme(QStringLiteral("edit-find")), tr("&Find…"), m_reader,
                                       &ReaderView::showFindBar);
    m_findAction->setObjectName(QStringLiteral("findAction"));
    m_findAction->setShortcut(QKeySequence::Find);
    QAction* findNext = editMenu->addAction(tr("Find &Next"), m_reader, &ReaderView::findNext);
    findNext->setShortcut(QKeySequence::FindNext);
    QAction* findPrevious = editMenu->addAction(tr("Find Pre&vious"), m_reader, &ReaderView::findPrevious);
    findPrevious->setShortcut(QKeySequence::FindPrevious);

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    createViewMenu(viewMenu);

    QMenu* goMenu = menuBar()->addMenu(tr("&Go"));
    m_previousAction = goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-previous")), tr("&Previous Page"),
                                         this, [this] { showPage(currentPage() - 1); });
    m_previousAction->setShortcuts({QKeySequence(Qt::Key_PageUp), QKeySequence(Qt::ALT | Qt::Key_Left)});
    m_nextAction = goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-next")), tr("&Next Page"),
                                     this, [this] { showPage(currentPage() + 1); });
    m_nextAction->setShortcuts({QKeySequence(Qt::Key_PageDown), QKeySequence(Qt::ALT | Qt::Key_Right)});
    goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-first")), tr("&First Page"), QKeySequence(Qt::CTRL | Qt::Key_Home),
                      this, [this] { showPage(0); });
    goMenu->addAction(QIcon::fromTheme(QStringLiteral("go-last")), tr("&Last Page"), QKeySequence(Qt::CTRL | Qt::Key_End),
                      this, [this] { showPage(m_reader->pageCount() - 1); });

    m_toolsMenu = menuBar()->addMenu(tr("&Tools"));
    m_toolsMenu->setObjectName(QStringLiteral("toolsMenu"));
    QAction* models = m_toolsMenu->addAction(QIcon::fromTheme(QStringLiteral("preferences-system")), tr("&Model Manager…"),
                                             this, [this] { openModelManager(); });
    models->setObjectName(QStringLiteral("modelManagerAction"));
    models->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
    QAction* review = m_toolsMenu->addAction(tr("&Review for Venue…"), this, [this] { openReview(); });
    review->setObjectName(QStringLiteral("reviewAction"));
    review->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));

    QMenu* helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&About Folio"), this, [this] {
        QMessageBox::about(this, tr("About Folio"),
                           tr("<b>Folio</b> %1<br>Read long documents with a local language model.")
                               .arg(QApplication::applicationVersion()));
    });

    QToolBar* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolBar"));
    toolbar->addAction(openAction);
    toolbar->addAction(m_findAction);
    toolbar->addSeparator();
    toolbar->addAction(m_previousAction);
    m_pageSpin = new QSpinBox;
    m_pageSpin->setObjectName(QStringLiteral("pageSpin"));
    m_pageSpin->setKeyboardTracking(false);
    m_pageSpin->setToolTip(tr("Go to page"));
    connect(m_pageSpin, &QSpinBox::valueChanged, this, [this](int value) {
        if (value - 1 != currentPage())
            showPage(value - 1);
    });
    toolbar->addWidget(m_pageSpin);
    toolbar->addAction(m_nextAction);
    toolbar->addSeparator();
    toolbar->addAction(m_zoomOutAction);
    toolbar->addAction(m_zoomInAction);
    toolbar->addAction(m_fitWidthAction);
    m_toolBar = toolbar;
}

void MainWindow::createViewMenu(QMenu* menu)
{
    m_zoomInAction = menu->addAction(QIcon::fromTheme(QStringLiteral("zoom-in")), tr("Zoom &In"), m_reader, &ReaderView::zoomIn);
    m_zoomInAction->setShortcuts({QKeySequence::ZoomIn, QKeySequence(Qt::CTRL | Qt::Key_Equal)});
    m_zoomOutAction = menu->addAction(QIcon::fromTheme(QStringLiteral("zoom-out")), tr("Zoom &Out"), m_reader, &ReaderView::zoomOut);
    m_zoomOutAction->setShortcut(QKeySequence::ZoomOut);
    m_fitWidthAction = menu->addAction(QIcon::fromTheme(QStringLiteral("zoom-fit-width")), tr("Fit &Width"), m_reader,
                                       &ReaderView::fitWidth);
    m_fitWidthAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    menu->addSeparator();

    QMenu* themeMenu = menu->addMenu(tr("&Theme"));
    themeMenu->setObjectName(QStringLiteral("themeMenu"));
    m_themeGroup = new QActionGroup(this);
    const Theme saved = ThemeManager::saved();
    const std::pair<Theme, QString> choices[] = {
        {Theme::System, tr("Follow &System")}, {Theme::Light, tr("&Light")}, {Theme::Dark, tr("&Dark")}};
    for (const auto& [theme, label] : choices) {
        QAction* action = themeMenu->addAction(label);
        action->setObjectName(QStringLiteral("theme-") + themeKey(theme));
        action->setCheckable(true);
        action->setChecked(theme == saved);
        m_themeGroup->addAction(action);
        connect(action, &QAction::triggered, this, [theme] {
            ThemeManager::apply(theme);
            ThemeManager::save(theme);
        });
    }
}

} // namespace folio
