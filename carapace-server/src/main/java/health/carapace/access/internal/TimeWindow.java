package health.carapace.access.internal;

import java.time.DayOfWeek;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A weekly time window: {@code "HH:MM-HH:MM"} optionally followed by days ({@code Mon-Fri},
 * {@code Sat,Sun}, {@code Fri-Mon} wraps over the weekend; no days means every day). Wall-clock
 * minutes in the role's time zone; the start minute is inside, the end minute is outside
 * ({@code 08:00-18:00}: 08:00 allowed, 17:59 allowed, 18:00 refused). {@code 24:00} may end a window.
 *
 * <p>A window whose end is not after its start runs across midnight ({@code 22:00-06:00 Mon-Fri}),
 * and the minutes after midnight belong to the day the shift started: Friday 22:00 to Saturday
 * 06:00 is inside, Monday 00:00-06:00 is not (Sunday's shift was never granted).
 */
final class TimeWindow {

    private static final String[] DAY_NAMES = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

    private final int startMinute;
    private final int endMinute;
    /** Bit i set: DayOfWeek.of(i + 1) is a day on which the window starts. */
    private final int dayBits;
    /** Worded once: the console shows every role's window on each visit of its pages. */
    private final String inWords;

    private TimeWindow(int startMinute, int endMinute, int dayBits) {
        this.startMinute = startMinute;
        this.endMinute = endMinute;
        this.dayBits = dayBits;
        this.inWords = hhmm(startMinute) + " to " + hhmm(endMinute) + (endMinute <= startMinute ? " the next morning" : "")
                + ", " + daysInWords();
    }

    /** @throws IllegalArgumentException naming what is wrong, without echoing the text */
    static TimeWindow parse(String text) {
        if (text == null || text.length() > 100) {
            throw new IllegalArgumentException("a time window looks like \"08:00-18:00 Mon-Fri\"");
        }
        String trimmed = text.strip();
        int space = trimmed.indexOf(' ');
        String times = space < 0 ? trimmed : trimmed.substring(0, space);
        String days = space < 0 ? null : trimmed.substring(space + 1).strip();
        if (times.length() != 11 || times.charAt(5) != '-') {
            throw new IllegalArgumentException("a time window starts with HH:MM-HH:MM (24-hour clock)");
        }
        int start = minute(times.substring(0, 5), false);
        int end = minute(times.substring(6), true);
        if (start == end) {
            throw new IllegalArgumentException("the window is empty: start equals end");
        }
        int bits = days == null ? 0x7F : days(days);
        return new TimeWindow(start, end, bits);
    }

    private static int minute(String hhmm, boolean end) {
        if (hhmm.length() != 5 || hhmm.charAt(2) != ':' || !digits(hhmm.substring(0, 2)) || !digits(hhmm.substring(3))) {
            throw new IllegalArgumentException("times must be HH:MM (24-hour clock)");
        }
        int h = Integer.parseInt(hhmm.substring(0, 2));
        int m = Integer.parseInt(hhmm.substring(3));
        if (end && h == 24 && m == 0) {
            return 24 * 60;
        }
        if (h > 23 || m > 59) {
            throw new IllegalArgumentException("times must be between 00:00 and 23:59 (24:00 may end a window)");
        }
        return h * 60 + m;
    }

    private static boolean digits(String s) {
        return s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static int days(String spec) {
        if (spec.isEmpty()) {
            throw new IllegalArgumentException("days must be like Mon-Fri or Sat,Sun");
        }
        int bits = 0;
        for (String item : spec.split(",", -1)) {
            String part = item.strip();
            int dash = part.indexOf('-');
            if (dash < 0) {
                bits |= 1 << day(part);
            } else {
                int from = day(part.substring(0, dash));
                int to = day(part.substring(dash + 1));
                // Fri-Mon wraps: Fri, Sat, Sun, Mon.
                for (int d = from; ; d = (d + 1) % 7) {
                    bits |= 1 << d;
                    if (d == to) {
                        break;
                    }
                }
            }
        }
        return bits;
    }

    private static int day(String name) {
        String lower = name.strip().toLowerCase(Locale.ROOT);
        for (int i = 0; i < DAY_NAMES.length; i++) {
            if (DAY_NAMES[i].equals(lower)) {
                return i;
            }
        }
        throw new IllegalArgumentException("days are Mon, Tue, Wed, Thu, Fri, Sat, Sun (ranges like Mon-Fri, lists like Sat,Sun)");
    }

    /** Whether the wall-clock minute {@code minuteOfDay} (0-1439) on {@code day} is inside. */
    boolean contains(DayOfWeek day, int minuteOfDay) {
        int d = day.getValue() - 1;
        if (startMinute < endMinute) {
            return startsOn(d) && minuteOfDay >= startMinute && minuteOfDay < endMinute;
        }
        // Across midnight: the evening part belongs to today's shift, the early part to yesterday's.
        if (minuteOfDay >= startMinute) {
            return startsOn(d);
        }
        return minuteOfDay < endMinute && startsOn((d + 6) % 7);
    }

    private boolean startsOn(int d) {
        return (dayBits & (1 << d)) != 0;
    }

    /**
     * The window in words, as an administrator reviewing a role reads it: {@code "08:00 to 18:00,
     * Monday to Friday"}, {@code "22:00 to 06:00 the next morning, Monday to Friday"}, {@code "09:00 to
     * 17:00, Monday, Wednesday and Thursday"}, {@code "every day"} for the days when all seven are in.
     */
    String inWords() {
        return inWords;
    }

    private static String hhmm(int minute) {
        return String.format(Locale.ROOT, "%02d:%02d", minute / 60, minute % 60);
    }

    /** Runs of consecutive days (Friday to Monday wraps over the weekend), joined as a list. */
    private String daysInWords() {
        if (dayBits == 0x7F) {
            return "every day";
        }
        // A run starts on a day whose day before is out, so one over the week's end (Fri-Mon) is one run.
        java.util.List<String> runs = new java.util.ArrayList<>();
        for (int d = 0; d < 7; d++) {
            if (!startsOn(d) || startsOn((d + 6) % 7)) {
                continue; // not the first day of a run
            }
            int end = d;
            while (startsOn((end + 1) % 7)) {
                end = (end + 1) % 7;
            }
            int length = (end - d + 7) % 7 + 1;
            if (length == 1) {
                runs.add(dayName(d));
            } else if (length == 2) {
                runs.add(dayName(d));
                runs.add(dayName(end));
            } else {
                runs.add(dayName(d) + " to " + dayName(end));
            }
        }
        if (runs.size() == 1) {
            return runs.get(0);
        }
        return String.join(", ", runs.subList(0, runs.size() - 1)) + " and " + runs.get(runs.size() - 1);
    }

    private static String dayName(int d) {
        return DayOfWeek.of(d + 1).getDisplayName(java.time.format.TextStyle.FULL, Locale.ENGLISH);
    }

    Set<DayOfWeek> days() {
        Set<DayOfWeek> set = EnumSet.noneOf(DayOfWeek.class);
        for (int d = 0; d < 7; d++) {
            if (startsOn(d)) {
                set.add(DayOfWeek.of(d + 1));
            }
        }
        return set;
    }
}
