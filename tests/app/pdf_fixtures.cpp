#include "pdf_fixtures.h"

#include <QFile>
#include <QPainter>
#include <QPdfWriter>

#include <gtest/gtest.h>

namespace folio::test {

void writeTextPdf(const QString& path, const QStringList& pages, const QString& title, const QString& author)
{
    QPdfWriter writer(path);
    writer.setTitle(title);
    // Qt 6.4's QPdfWriter cannot set /Author; the creator is written instead and its key
    // renamed below ("/Creator" and "/Author " have the same length, so offsets hold).
    writer.setCreator(author.isEmpty() ? QStringLiteral("Folio tests") : author);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    QPainter painter(&writer);
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSize(12);
    painter.setFont(font);
    for (int i = 0; i < pages.size(); ++i) {
        if (i > 0)
            writer.newPage();
        painter.drawText(QRect(200, 200, 2000, 3000), Qt::TextWordWrap, pages.at(i));
    }
    ASSERT_TRUE(painter.end()) << "QPainter could not finish " << path.toStdString();
    if (!author.isEmpty()) {
        QByteArray bytes = readBytes(path);
        ASSERT_EQ(bytes.count("/Creator"), 1);
        bytes.replace("/Creator", "/Author ");
        writeBytes(path, bytes);
    }
}

void writeTablePdf(const QString& path, const QList<QStringList>& rows)
{
    QPdfWriter writer(path);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    QPainter painter(&writer);
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSize(11);
    painter.setFont(font);
    int y = 300;
    for (const QStringList& row : rows) {
        int x = 200;
        for (const QString& cell : row) {
            painter.drawText(QPoint(x, y), cell);
            x += 600;
        }
        y += 80;
    }
    ASSERT_TRUE(painter.end());
}

void writeReportPdf(const QString& path, const QString& before, const QList<QStringList>& rows, const QString& after)
{
    QPdfWriter writer(path);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    QPainter painter(&writer);
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSize(10);
    painter.setFont(font);
    const int lineHeight = painter.fontMetrics().height();
    QRect box(200, 200, 2000, 400);
    painter.drawText(box, Qt::TextWordWrap, before, &box);
    int y = box.bottom() + 2 * lineHeight;
    for (const QStringList& row : rows) {
        for (int c = 0; c < row.size(); ++c) {
            if (c == 0)
                painter.drawText(QRect(200, y, 800, lineHeight), Qt::AlignLeft | Qt::AlignVCenter, row[c]);
            else   // figures: right edges line up, left edges do not
                painter.drawText(QRect(1000 + (c - 1) * 350, y, 300, lineHeight), Qt::AlignRight | Qt::AlignVCenter, row[c]);
        }
        y += lineHeight + lineHeight / 3;
    }
    painter.drawText(QRect(200, y + 2 * lineHeight, 2000, 400), Qt::TextWordWrap, after);
    ASSERT_TRUE(painter.end());
}

QByteArray encryptedPdfBytes()
{
    // Built by hand so that no tool is needed: the /Encrypt dictionary uses the Standard
    // handler (RC4, revision 2) with /O and /U values that no empty password matches, so a
    // reader must ask for the user password.
    QByteArray pdf("%PDF-1.4\n");
    QList<qsizetype> offsets;
    auto object = [&](const QByteArray& body) {
        offsets << pdf.size();
        pdf += QByteArray::number(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
    };
    const QByteArray hash32 = QByteArray(32, '\x5a').toHex();
    object("<< /Type /Catalog /Pages 2 0 R >>");
    object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>");
    object("<< /Filter /Standard /V 1 /R 2 /O <" + hash32 + "> /U <" + hash32 + "> /P -44 >>");
    const qsizetype xref = pdf.size();
    pdf += "xref\n0 " + QByteArray::number(offsets.size() + 1) + "\n0000000000 65535 f \n";
    for (qsizetype offset : offsets)
        pdf += QByteArray::number(offset).rightJustified(10, '0') + " 00000 n \n";
    const QByteArray id = QByteArray(16, '\x11').toHex();
    pdf += "trailer\n<< /Size " + QByteArray::number(offsets.size() + 1) + " /Root 1 0 R /Encrypt 4 0 R /ID [<" + id +
           "> <" + id + ">] >>\nstartxref\n" + QByteArray::number(xref) + "\n%%EOF\n";
    return pdf;
}

void writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    ASSERT_TRUE(file.open(QIODevice::WriteOnly | QIODevice::Truncate)) << path.toStdString();
    ASSERT_EQ(file.write(bytes), bytes.size());
}

QByteArray readBytes(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

} // namespace folio::test
