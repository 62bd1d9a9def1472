/** Part of the platform module's public API, used by the other modules. */
@org.springframework.modulith.NamedInterface("logging")
package health.carapace.platform.logging;
