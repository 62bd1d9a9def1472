package health.carapace.compliance.internal;

import com.openhtmltopdf.pdfboxout.PdfRendererBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The report's XHTML rendered to PDF by openhtmltopdf (PDFBox underneath): never a hand-written PDF. */
final class ReportPdf {

    private ReportPdf() {
    }

    static byte[] render(String xhtml) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PdfRendererBuilder builder = new PdfRendererBuilder();
            builder.useFastMode();
            // No base URI: the page references nothing outside itself, and nothing may be fetched.
            builder.withHtmlContent(xhtml, null);
            builder.toStream(out);
            builder.run();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot render the report as PDF", e);
        }
        return out.toByteArray();
    }
}
