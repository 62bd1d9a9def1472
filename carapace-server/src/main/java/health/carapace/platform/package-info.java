/**
 * What every module stands on: configuration and production readiness, the start-dev
 * environment, PHI-safe logging, metrics, and the web container's guards. Its API is its named
 * interfaces ({@code config}, {@code dev}, {@code logging}, {@code metrics}, {@code web}), which a
 * module declares one by one (e.g. {@code "platform :: logging"}); it depends on no other module.
 */
@org.springframework.modulith.ApplicationModule(allowedDependencies = {})
package health.carapace.platform;
