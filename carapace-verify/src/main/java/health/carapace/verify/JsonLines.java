package health.carapace.verify;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A JSON Lines file read one line at a time, counting lines for the error messages. Every
 * value in the format is hex, base64 or a number, so a line must be ASCII; it is handed to
 * Jackson as bytes, without decoding it into a String first.
 */
final class JsonLines implements AutoCloseable {
    /** Far above any real line; keeps a corrupt file from exhausting memory. */
    private static final int MAX_LINE = 16 * 1024 * 1024;

    private final String name;
    private final InputStream in;
    private final byte[] buffer = new byte[64 * 1024];
    private int position;
    private int limit;
    private byte[] line = new byte[1024];
    private long number;

    JsonLines(BundleFiles files, String name) throws IOException {
        this.name = name;
        this.in = files.openStream(name);
    }

    /** The next line without its line end, or null at the end of the file. */
    byte[] next() throws IOException, BundleVerificationException {
        number++;
        int length = 0;
        boolean read = false;
        while (true) {
            if (position == limit) {
                int count = in.read(buffer);
                position = 0;
                limit = Math.max(count, 0);
                if (count <= 0) {
                    return read ? finish(length) : null;
                }
            }
            read = true;
            int start = position;
            while (position < limit && buffer[position] != '\n') {
                position++;
            }
            length = append(length, start, position - start);
            if (position < limit) {
                position++; // the newline
                if (length > 0 && line[length - 1] == '\r') {
                    length--;
                }
                return finish(length);
            }
        }
    }

    private int append(int length, int start, int count) throws BundleVerificationException {
        if (length + count > MAX_LINE) {
            throw failure("longer than " + MAX_LINE + " bytes");
        }
        if (length + count > line.length) {
            line = Arrays.copyOf(line, Math.min(MAX_LINE, Math.max(2 * line.length, length + count)));
        }
        System.arraycopy(buffer, start, line, length, count);
        return length + count;
    }

    private byte[] finish(int length) throws BundleVerificationException {
        boolean blank = true;
        for (int i = 0; i < length; i++) {
            byte b = line[i];
            if (b < 0) {
                throw failure("not ASCII (byte " + (i + 1) + ")");
            }
            blank &= b == ' ' || b == '\t';
        }
        if (blank) {
            throw failure("empty line");
        }
        return Arrays.copyOf(line, length);
    }

    /** The number of the line last returned by {@link #next()} (past the end: one more than the last). */
    long number() {
        return number;
    }

    BundleVerificationException failure(String problem) {
        return new BundleVerificationException(name, number, problem);
    }

    BundleVerificationException failure(String problem, Throwable cause) {
        return new BundleVerificationException(name, number, problem, cause);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
