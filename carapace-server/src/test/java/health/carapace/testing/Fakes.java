package health.carapace.testing;

import java.security.SecureRandom;

/** Unique fake values for test data, so each run's records are told apart from the rest. */
public final class Fakes {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Fakes() {
    }

    public static String letters(int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('a' + RANDOM.nextInt(26)));
        }
        return b.toString();
    }

    public static String digits(int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) ('0' + RANDOM.nextInt(10)));
        }
        return b.toString();
    }
}
