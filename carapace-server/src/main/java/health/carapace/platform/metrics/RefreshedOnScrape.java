package health.carapace.platform.metrics;

/**
 * Meters whose values are a snapshot (rather than read by the gauge itself) and are brought up
 * to date before every scrape, so that a scrape never shows values older than the request.
 */
public interface RefreshedOnScrape {

    /** Brings the snapshot up to date. Must be cheap and must not throw for a transient failure. */
    void refreshBeforeScrape();
}
