#include "ui/shell/status_widgets.h"

#include <QFile>
#include <QLabel>
#include <QLocale>
#include <QStatusBar>
#include <QTimer>

#include <unistd.h>

namespace folio {

namespace {

QLabel* permanentLabel(QStatusBar* bar, const char* name, const QString& tip)
{
    auto* label = new QLabel;
    label->setObjectName(QLatin1String(name));
    label->setToolTip(tip);
    bar->addPermanentWidget(label);
    return label;
}

} // namespace

StatusWidgets::StatusWidgets(QStatusBar* bar) : QObject(bar)
{
    m_model = permanentLabel(bar, "modelLabel", tr("The language model (Tools → Model Manager)"));
    m_context = permanentLabel(bar, "contextLabel", tr("Tokens in the context / context size"));
    m_extension = permanentLabel(bar, "extensionLabel", tr("How the context is extended beyond the trained length"));
    m_kv = permanentLabel(bar, "kvLabel", tr("KV cache type"));
    m_memory = permanentLabel(bar, "memoryLabel", tr("Memory in use by Folio (planned for the model)"));
    setModel(QString());
    setContext(0, 0);
    m_timer = new QTimer(this);
    connect(m_timer, &QTimer::timeout, this, &StatusWidgets::updateMemory);
    m_timer->start(3000);
    updateMemory();
}

void StatusWidgets::setModel(const QString& name) { m_model->setText(name.isEmpty() ? tr("No model") : name); }

void StatusWidgets::setContext(qint64 used, qint64 context)
{
    const QLocale locale;
    m_context->setText(context > 0 ? tr("%1 / %2 tokens").arg(locale.toString(used), locale.toString(context)) : QString());
    m_context->setVisible(context > 0);
}

void StatusWidgets::setExtension(const QString& method)
{
    m_extension->setText(method);
    m_extension->setVisible(!method.isEmpty());
}

void StatusWidgets::setKvType(const QString& type)
{
    m_kv->setText(type.isEmpty() ? QString() : tr("KV %1").arg(type));
    m_kv->setVisible(!type.isEmpty());
}

void StatusWidgets::setPlannedMemory(qint64 bytes)
{
    m_planned = bytes;
    updateMemory();
}

void StatusWidgets::updateMemory()
{
    const qint64 rss = residentBytes();
    QString text = rss > 0 ? tr("%1 in use").arg(bytesText(rss)) : QString();
    if (m_planned >= 0)
        text += (text.isEmpty() ? QString() : QStringLiteral(" · ")) + tr("%1 planned").arg(bytesText(m_planned));
    m_memory->setText(text);
}

QString StatusWidgets::compactTokens(qint64 tokens)
{
    if (tokens >= 1024 && tokens % 1024 == 0)
        return QStringLiteral("%1K").arg(tokens / 1024);
    if (tokens >= 1000)
        return QStringLiteral("%1K").arg(double(tokens) / 1024.0, 0, 'f', 1);
    return QString::number(tokens);
}

QString StatusWidgets::bytesText(qint64 bytes)
{
    return QLocale().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

qint64 StatusWidgets::residentBytes()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * sysconf(_SC_PAGESIZE) : 0;
}

} // namespace folio
