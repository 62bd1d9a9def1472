/**
 * The metrics registry and its one route, {@code GET /admin/metrics} (Prometheus text format,
 * permission {@code view:metrics}). Part of the platform module's public API: a module adds
 * meters by declaring a Micrometer {@code MeterBinder} bean, and may implement
 * {@link health.carapace.platform.metrics.RefreshedOnScrape} to bring them up to date first.
 */
@org.springframework.modulith.NamedInterface("metrics")
package health.carapace.platform.metrics;
