// folio --screenshots DIR FILE: walks the window through its main states and saves a
// picture of each (for the screenshot test and the docs): empty.png, document.png,
// model-manager.png, server.png, reading.png, answer.png, review.png. The chat states are played by a
// ScriptedBackend (a scripted answer, not a model's), so they need no model file.
#pragma once

#include <QDir>
#include <QObject>
#include <QStringList>

namespace folio {

class MainWindow;
class ScriptedBackend;

class ScreenshotTour : public QObject {
    Q_OBJECT
public:
    ScreenshotTour(MainWindow* window, const QString& directory, const QString& document);
    void start();
    const QStringList& written() const { return m_written; }

signals:
    void done(bool ok);

private:
    void shoot(QWidget* widget, const QString& name);
    void later(int ms, void (ScreenshotTour::*step)());
    void empty();
    void openDocument();
    void document();
    void modelManager();
    void serverPage();
    void reading();
    void answer();
    void review();
    void fail(const QString& message);

    MainWindow* m_window;
    QDir m_dir;
    QString m_document;
    ScriptedBackend* m_backend = nullptr;
    QStringList m_written;
    bool m_ok = true;
};

} // namespace folio
