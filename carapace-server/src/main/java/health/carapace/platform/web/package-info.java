/** Part of the platform module's public API, used by the other modules. */
@org.springframework.modulith.NamedInterface("web")
package health.carapace.platform.web;
