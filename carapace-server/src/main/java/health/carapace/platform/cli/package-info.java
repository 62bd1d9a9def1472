/** Part of the platform module's public API, used by the other modules. */
@org.springframework.modulith.NamedInterface("cli")
package health.carapace.platform.cli;
