@org.springframework.modulith.ApplicationModule(allowedDependencies = {})
package health.carapace.testing.boundaries.undeclared.orders;
