package health.carapace.incident;

import java.time.Instant;
import java.util.List;

/**
 * An incident's deadlines. The response plan's, from detection: isolate the affected access within
 * 15 minutes, alert the compliance officer within 60, have a containment plan within 4 hours. Once a
 * privacy officer records a breach of unsecured PHI, HIPAA's, from its discovery: individuals within
 * 60 days (45 CFR §164.404(b)); HHS within 60 days when 500 or more are affected, else within 60 days
 * after the end of the calendar year of discovery (§164.408(b), (c)); prominent media within 60 days
 * when more than 500 residents of one State are affected (§164.406). Null: that clock does not run.
 *
 * @param overdue the codes of the clocks that ran out before they were met, or are still unmet past
 *     their deadline ({@code isolate}, {@code alert}, {@code plan}, {@code individuals}, {@code hhs},
 *     {@code media})
 * @param met the response clocks whose event has happened, in time or late ({@code isolate},
 *     {@code alert}, {@code plan}): they no longer run
 */
public record Clocks(Instant isolateBy, Instant alertBy, Instant planBy, Instant individualsBy, Instant hhsBy,
        Instant mediaBy, List<String> overdue, List<String> met) {

    public Clocks {
        overdue = List.copyOf(overdue);
        met = List.copyOf(met);
    }
}
