@org.springframework.modulith.ApplicationModule(allowedDependencies = "billing")
package health.carapace.testing.boundaries.declared.orders;
