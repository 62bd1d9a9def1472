package health.carapace.compliance.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CycloneDX SBOM the build puts in the jar ({@code META-INF/sbom/application.cdx.json}, made by
 * the cyclonedx-maven-plugin on every build): the components this server was built with.
 */
record SoftwareBillOfMaterials(String specVersion, String application, String applicationVersion,
        List<Component> components) {

    static final String RESOURCE = "META-INF/sbom/application.cdx.json";

    record Component(String group, String name, String version, String purl) {
        String coordinates() {
            return (group == null || group.isEmpty() ? "" : group + ":") + name;
        }
    }

    /** The SBOM on the class path, if the build made one. */
    static Optional<SoftwareBillOfMaterials> load(ClassLoader loader) {
        try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return Optional.empty();
            }
            return Optional.of(parse(in.readAllBytes()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static SoftwareBillOfMaterials parse(byte[] json) {
        JsonNode root = JsonMapper.builder().build().readTree(json);
        List<Component> components = new ArrayList<>();
        for (JsonNode c : root.path("components")) {
            components.add(new Component(text(c, "group"), text(c, "name"), text(c, "version"), text(c, "purl")));
        }
        JsonNode app = root.path("metadata").path("component");
        return new SoftwareBillOfMaterials(text(root, "specVersion"), text(app, "name"), text(app, "version"),
                List.copyOf(components));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asString();
    }
}
